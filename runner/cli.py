"""The ``payments`` command line.

Exit codes: 0 success; 1 the command ran and found a problem (a failed run,
a firing alert); 2 bad usage or configuration (click's own code).
"""

from __future__ import annotations

import json
import sys

import click

from runner import migrate as migrate_mod

DATABASE_URL_HELP = "PostgreSQL URL (env PAYMENTS_DATABASE_URL), e.g. postgresql://user@host/db"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="midtrans-payment-finality")
def main() -> None:
    """Payment finality for Midtrans shops: every payment side-effect is
    idempotent and lives in PostgreSQL; this tool migrates the schema and runs
    the webhook receiver, status sync and reconciliation around it."""


@main.command()
@click.option("--database-url", envvar="PAYMENTS_DATABASE_URL", required=True,
              help=DATABASE_URL_HELP)
@click.option("--rollback", is_flag=True, help="Roll back the latest applied migration instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def migrate(database_url: str, rollback: bool, as_json: bool) -> None:
    """Apply pending migrations, then re-apply every SQL API function.

    Safe to run any number of times and from several processes at once; a run
    with nothing new changes nothing. With --rollback, rolls back the latest
    migration only (functions are not re-applied then)."""
    try:
        result = migrate_mod.migrate(database_url, rollback=rollback)
    except Exception as exc:  # one clear line, never a traceback with the URL in it
        click.echo(f"migrate failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result.__dict__))
    else:
        click.echo(result.summary())


if __name__ == "__main__":
    main()
