"""The ``payments`` command line.

Exit codes: 0 success; 1 the command ran and found a problem (a run with
errors, Midtrans or the database unavailable, a migration failure); 2 bad
usage or configuration; 3 a sync / reconcile / prune run skipped because
another process holds its lease.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from runner import cron as cron_mod
from runner import migrate as migrate_mod
from runner import settings as settings_mod
from runner.settings import Settings, SettingsError, parse_duration

DATABASE_URL_HELP = "PostgreSQL URL (env PAYMENTS_DATABASE_URL), e.g. postgresql://user@host/db"


def run_on_fast_loop(coroutine: Awaitable[Any]) -> Any:
    """Runs ``serve`` and the sync / reconcile / prune commands on uvloop's
    event loop when it is installed (uvicorn[standard] installs it on Linux
    and macOS; it is the loop uvicorn picks when it runs an app itself), else
    on asyncio's. Measured under a confirmed notification load (two
    alternating pairs): 4.6 -> 3.5 ms of ``serve`` CPU per notification;
    unconfirmed, 1.32 -> 1.27 ms (docs/BENCHMARKS.md)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)  # type: ignore[arg-type]


def _configure_logging(verbose: bool = False) -> None:
    """Logs to stderr in PAYMENTS_LOG_FORMAT (text or json) at PAYMENTS_LOG_LEVEL (--verbose: DEBUG)."""
    from runner import logs

    try:
        fmt, level = settings_mod.log_settings()
    except SettingsError as exc:
        _fail(f"configuration error: {exc}", 2)
    logs.configure(fmt, "DEBUG" if verbose else level)
    logging.captureWarnings(True)


def _settings(**overrides: Any) -> Settings:
    try:
        return settings_mod.load(**overrides)
    except SettingsError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


def _fail(message: str, code: int = 1) -> None:
    click.echo(_without_secrets(message), err=True)
    sys.exit(code)


def _without_secrets(message: str) -> str:
    """The last line of a failed command never carries a database password: from
    the environment or from any URL option of the command."""
    secrets = settings_mod.environment_secrets(os.environ)
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        for key, value in ctx.params.items():
            if key.endswith("url") and value:
                secrets += settings_mod.url_secrets(str(value))
        ctx = ctx.parent
    return settings_mod.redact_message(message, secrets)


# which documented login each command is meant for, named when the database refuses one
_MEANT_FOR = {
    "migrate": "the database owner (see MIDTRANS_INTEGRATION.md, Supabase / managed PostgreSQL)",
    "schedule-cron": "the database owner, granted USAGE ON SCHEMA cron",
    "serve": "a login in payments_runner",
    "sync": "a login in payments_runner",
    "reconcile": "a login in payments_runner",
    "prune": "a login in payments_runner",
    "alerts": "a login in payments_runner or payments_readonly",
    "runs": "a login in payments_runner or payments_readonly",
    "audit": "a login in payments_readonly (or payments_operator)",
    "order": "a login in payments_readonly (or payments_operator)",
    "demo": "the owner of a scratch database (the demo migrates it and wipes its payments tables)",
    "checkout": "a login in payments_runner",
    "capture": "a login in payments_operator (the person acting: it is logged as the actor)",
    "approve": "a login in payments_operator (the person acting: it is logged as the actor)",
    "deny": "a login in payments_operator (the person acting: it is logged as the actor)",
    "cancel": "a login in payments_operator (the person acting: it is logged as the actor)",
    "refund": "a login in payments_operator",
    "resolve": "a login in payments_operator",
}


def _database_error_line(command: str | None, exc: Exception) -> str:
    """One line for a database error that escaped a command: its primary message
    (DETAIL lines, which may quote row values, are dropped) and SQLSTATE, and for a
    missing privilege, which login the command is meant for."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    sqlstate = getattr(exc, "sqlstate", None)
    line = f"payments {command or ''}: {first}".replace("payments : ", "payments: ")
    if sqlstate:
        line += f" (SQLSTATE {sqlstate})"
    if sqlstate == "42501":
        meant_for = _MEANT_FOR.get(command or "", "another role")
        line += f" — this login lacks that privilege; run it as {meant_for}"
    return line


class _Main(click.Group):
    """Every command ends with one line on a database error, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        import psycopg

        try:
            return super().invoke(ctx)
        except psycopg.Error as exc:
            _fail(_database_error_line(ctx.invoked_subcommand, exc))


def _echo_result(result: dict, as_json: bool, title: str) -> None:
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    if result.get("skipped"):
        click.echo(f"{title}: skipped, the {title} lease is held by {result.get('holder')} "
                   f"until {result.get('until')}")
        return
    parts = [f"{k}={v}" for k, v in result.items() if k != "run_id" and v]
    click.echo(f"{title} run {result.get('run_id')}: " + (", ".join(parts) or "nothing to do"))


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="midtrans-payment-finality")
def main() -> None:
    """Payment finality for Midtrans shops.

    Every payment side-effect (tickets, capacity, pickup codes, stock) is
    idempotent and lives in PostgreSQL (schema `payments`). This tool migrates
    that schema and runs what the database cannot do itself: the Midtrans
    webhook receiver, the status sync, the reconciliation job and a Midtrans
    simulator for development.

    Settings come from environment variables (see README); options override them.
    Exit codes: 0 ok, 1 the command ran and found a problem, 2 bad usage or
    configuration, 3 a sync / reconcile / prune run skipped (another process
    holds its lease).
    """
    _resolve_secret_files()


def _resolve_secret_files() -> None:
    """Every command sees ``X`` for an ``X_FILE`` secret (migrate, schedule-cron and demo read
    PAYMENTS_DATABASE_URL through their options, not through Settings), and libpq the
    PAYMENTS_DATABASE_PASSWORD as PGPASSWORD. One line and exit 2 for a bad secret file."""
    try:
        resolved = settings_mod.read_secret_files(os.environ)
    except settings_mod.SettingsError as exc:
        _fail(f"configuration error: {exc}", 2)
    for var in settings_mod.SECRET_VARIABLES:
        if os.environ.pop(f"{var}_FILE", None) is not None:
            os.environ[var] = resolved[var]
    password = os.environ.get("PAYMENTS_DATABASE_PASSWORD")
    if password and "PGPASSWORD" not in os.environ:
        os.environ["PGPASSWORD"] = password


# -- migrate -------------------------------------------------------------------

@main.command()
@click.option("--database-url", envvar="PAYMENTS_DATABASE_URL", required=True, help=DATABASE_URL_HELP)
@click.option("--rollback", is_flag=True, help="Roll back the latest applied migration instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def migrate(database_url: str, rollback: bool, as_json: bool) -> None:
    """Apply pending migrations, then re-apply every SQL API function.

    Safe to run any number of times and from several processes at once; a run
    with nothing new changes nothing. With --rollback, rolls back the latest
    migration only (functions are not re-applied then)."""
    try:
        result = migrate_mod.migrate(database_url, rollback=rollback)
    except migrate_mod.PrivilegeError as exc:
        _fail(f"migrate: {exc}")
    except Exception as exc:  # one clear line, never a traceback with the URL in it
        first = (str(exc).strip().splitlines() or [""])[0]
        sqlstate = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
        suffix = f" (SQLSTATE {sqlstate})" if sqlstate else ""
        _fail(f"migrate failed: {type(exc).__name__}: {first}{suffix}")
    if as_json:
        click.echo(json.dumps(result.__dict__))
    else:
        click.echo(result.summary())


# -- serve ---------------------------------------------------------------------

@main.command()
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--host", help="Listen address (env PAYMENTS_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (env PAYMENTS_PORT, default 8080).")
@click.option("--sync-interval", help="Sync schedule, e.g. 60s (env PAYMENTS_SYNC_INTERVAL).")
@click.option("--reconcile-interval", help="Reconcile schedule, e.g. 1h (env PAYMENTS_RECONCILE_INTERVAL).")
@click.option("--no-sync", is_flag=True, help="Do not run the sync schedule in this process.")
@click.option("--no-reconcile", is_flag=True, help="Do not run the reconcile schedule in this process.")
@click.option("--no-prune", is_flag=True, help="Do not run the log-retention schedule in this process.")
@click.option("--verbose", is_flag=True, help="Debug logging.")
def serve(database_url: str | None, host: str | None, port: int | None, sync_interval: str | None,
          reconcile_interval: str | None, no_sync: bool, no_reconcile: bool, no_prune: bool,
          verbose: bool) -> None:
    """Run the webhook receiver and the sync / reconcile schedules.

    Endpoints: POST /midtrans/notification (point Midtrans' notification URL
    here, behind TLS), GET /healthz, GET /metrics, and POST /checkout when
    PAYMENTS_SHOP_API_TOKEN is set (for the shop's backend only, never public). Several `serve` processes
    may share one database: each scheduled run is taken by one of them.
    SIGTERM finishes in-flight requests and runs, then exits 0."""
    from runner.serve import serve as serve_forever

    settings = _settings(database_url=database_url, host=host, port=port,
                         sync_interval=_duration(sync_interval, "--sync-interval"),
                         reconcile_interval=_duration(reconcile_interval, "--reconcile-interval"))
    _require(settings, database=True, server_key=True)
    _configure_logging(verbose)
    run_on_fast_loop(serve_forever(settings, run_sync=not no_sync, run_reconcile=not no_reconcile,
                                   run_prune=not no_prune))


def _duration(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value, name)
    except SettingsError as exc:
        _fail(f"configuration error: {exc}", 2)
    return None


def _require(settings: Settings, *, database: bool = False, server_key: bool = False) -> None:
    try:
        if database:
            settings.require_database()
        if server_key:
            settings.require_server_key()
    except SettingsError as exc:
        _fail(f"configuration error: {exc}", 2)


# -- sync / reconcile -------------------------------------------------------------

SKIPPED = 3  # exit code of a --once run skipped because another process holds its lease

def _run_job(settings: Settings, job: Callable[..., Awaitable[dict]], title: str, once: bool,
             every: str | None, as_json: bool, needs_midtrans: bool = True) -> None:
    """Run a job once or on a schedule until SIGTERM. Exit 1 when a run recorded
    errors; with --once, 3 when it was skipped (another process holds the lease)."""
    import psycopg
    from psycopg_pool import PoolTimeout

    from runner import db
    from runner.serve import midtrans_client

    interval = _duration(every, "--every") if every else None
    if interval is None and not once:
        _fail(f"say --once or --every DURATION (see payments {title} --help)", 2)

    async def go() -> int:
        pool = db.make_pool(settings.require_database(), max_size=settings.http_concurrency + 2)
        client = midtrans_client(settings) if needs_midtrans else None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        worst = 0
        try:
            await pool.open(wait=True, timeout=15)
            while True:
                result = await job(settings, pool, client)
                _echo_result(result, as_json, title)
                if result.get("errors") or result.get("ok") is False:
                    worst = 1
                if interval is None:
                    return SKIPPED if result.get("skipped") and not worst else worst
                try:
                    await asyncio.wait_for(stop.wait(), timeout=interval)
                    return worst
                except TimeoutError:
                    continue
        except (PoolTimeout, psycopg.OperationalError) as exc:
            click.echo(f"{title} failed: database unavailable ({type(exc).__name__})", err=True)
            return 1
        finally:
            if client is not None:
                await client.aclose()
            await pool.close()

    _configure_logging()
    sys.exit(run_on_fast_loop(go()))


@main.command()
@click.option("--once", is_flag=True,
              help="Run one sync and exit (1 if any order could not be checked, 3 if skipped).")
@click.option("--every", help="Run a sync now and then every DURATION (e.g. 60s) until SIGTERM.")
@click.option("--order", "orders", multiple=True, metavar="ORDER_NUMBER",
              help="Ask about this order now, whatever its status or age (repeatable; implies --once).")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print each run's totals as JSON.")
def sync(once: bool, every: str | None, orders: tuple[str, ...], database_url: str | None,
         as_json: bool) -> None:
    """Ask the Midtrans Status API about pending orders that are due and apply
    each answer (source 'sync').

    An order is due when it is older than PAYMENTS_SYNC_MIN_AGE and was never
    checked, was checked longer than PAYMENTS_SYNC_RECHECK_AFTER ago, or is past
    its expires_at. Totals (checked, changed, not_found, errors) go to the
    `runs` table. A Midtrans outage is counted as errors and changes nothing.
    With --order, re-syncs exactly those orders (the runbook's "re-sync one
    order"); an unknown order number is counted as an error."""
    from functools import partial

    from runner.jobs import sync_once

    settings = _settings(database_url=database_url)
    _require(settings, database=True, server_key=True)
    if orders:
        _run_job(settings, partial(sync_once, orders=list(orders)), "sync", True, None, as_json)
    _run_job(settings, sync_once, "sync", once, every, as_json)


@main.command()
@click.option("--once", is_flag=True,
              help="Run one reconciliation and exit (1 if it recorded errors, 3 if skipped).")
@click.option("--every", help="Reconcile now and then every DURATION (e.g. 1h) until SIGTERM.")
@click.option("--local-only", is_flag=True,
              help="Only the network-free repairs (checks 1-4); do not ask Midtrans.")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print each run's totals as JSON.")
def reconcile(once: bool, every: str | None, local_only: bool, database_url: str | None,
              as_json: bool) -> None:
    """Find and repair orders whose state and side-effects disagree.

    Runs payments.reconcile_local in batches (paid orders missing tickets or
    pickup codes, failed / expired orders still holding capacity or stock),
    then asks Midtrans about pending orders past expires_at + PAYMENTS_EXPIRY_GRACE:
    still pending there -> expire at Midtrans first (PAYMENTS_EXPIRE_AT_MIDTRANS),
    then apply the answer and close the payment window unless a payment attempt
    is still live. One repair per transaction; a status that no payment in the
    ledger supports is corrected, never fulfilled. Only one reconciliation runs
    at a time across processes (a lease); a second one reports 'skipped', who
    holds the lease until when, and exits 3."""
    from runner.jobs import reconcile_once

    settings = _settings(database_url=database_url)
    _require(settings, database=True, server_key=not local_only)
    _run_job(settings, reconcile_once, "reconcile", once, every, as_json, needs_midtrans=not local_only)


@main.command()
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON.")
def prune(database_url: str | None, as_json: bool) -> None:
    """Delete webhook_logs rows past their retention now (payments.prune_logs):
    noise (rejections, decisions that changed nothing, run rows) after the
    retention_noise setting, everything else after retention_decisions. `serve`
    does this every PAYMENTS_PRUNE_INTERVAL; pg_cron hourly. Exits 3 when
    skipped because another process holds the prune lease."""
    from runner.jobs import prune_once

    settings = _settings(database_url=database_url)
    _require(settings, database=True)
    _run_job(settings, prune_once, "prune", True, None, as_json, needs_midtrans=False)


# -- schedule-cron ----------------------------------------------------------------

@main.command("schedule-cron")
@click.option("--every", default="5 minutes", show_default=True,
              help="How often: '5 minutes', '1 hour' or a cron expression.")
@click.option("--remove", is_flag=True, help="Remove the job instead.")
@click.option("--list", "list_", is_flag=True, help="Show the installed job.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100000),
              help="Orders repaired per check per run.")
@click.option("--database-url", envvar="PAYMENTS_DATABASE_URL", required=True, help=DATABASE_URL_HELP)
@click.option("--cron-database-url",
              help="Database where pg_cron is installed (default: cron.database_name on the same server).")
def schedule_cron(every: str, remove: bool, list_: bool, batch_size: int, database_url: str,
                  cron_database_url: str | None) -> None:
    """Install (idempotently, by job name) a pg_cron job running the
    network-free reconciliation inside PostgreSQL, or --remove it.

    The job runs `CALL payments.reconcile_local(batch, 'cron')` in the
    payments database (one transaction per repair); runs are recorded in `runs`
    with source 'cron'. A second job prunes webhook_logs hourly
    (`payments.prune_logs`). Check 5 (pending orders past expiry) needs Midtrans
    and stays with `payments reconcile` / `payments serve`."""
    try:
        if remove:
            n = cron_mod.remove(database_url, cron_database_url)
            click.echo(f"removed {n} pg_cron job(s)")
            return
        if list_:
            jobs = cron_mod.list_jobs(database_url, cron_database_url)
            for job in jobs:
                click.echo(f"{job.jobid} {job.jobname} '{job.schedule}' {job.command} (db {job.database})")
            if not jobs:
                click.echo("no payments pg_cron job installed")
            return
        job = cron_mod.install(database_url, every, batch_size, cron_database_url)
    except ValueError as exc:
        _fail(f"configuration error: {exc}", 2)
    except cron_mod.CronError as exc:
        _fail(f"schedule-cron: {exc}")
    except Exception as exc:
        _fail(f"schedule-cron failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    click.echo(f"pg_cron job {job.jobname} (id {job.jobid}) runs '{job.schedule}': {job.command}; "
               f"log retention hourly: {cron_mod.PRUNE_COMMAND}")


# -- operator commands -------------------------------------------------------------------

def _db_or_exit(database_url: str | None) -> str:
    settings = _settings(database_url=database_url)
    _require(settings, database=True)
    return settings.require_database()


def _json_out(value: Any) -> None:
    click.echo(json.dumps(value, default=str, indent=2))


@main.command()
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the alerts as JSON.")
def alerts(database_url: str | None, as_json: bool) -> None:
    """Show every alert (payments.alerts()): observed value, threshold, firing.

    Exits 1 when any alert fires, so it can drive cron mail or a Nagios-style
    check; thresholds live in the table payments.alert_thresholds."""
    from runner import report

    with report.connect(_db_or_exit(database_url)) as conn:
        rows = report.fetch(conn, "alerts")
    if as_json:
        _json_out(rows)
    else:
        shown = [{**r, "state": "FIRING" if r["firing"] else "ok"} for r in rows]
        click.echo(report.table(shown, ["state", "name", "observed", "threshold", "window", "description"]))
    sys.exit(1 if any(r["firing"] for r in rows) else 0)


@main.command()
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
def runs(database_url: str | None, limit: int, as_json: bool) -> None:
    """Show the latest sync and reconcile runs with their totals."""
    from runner import report

    with report.connect(_db_or_exit(database_url)) as conn:
        rows = report.fetch(conn, "recent_runs", limit=limit)
    if as_json:
        _json_out(rows)
        return
    for row in rows:
        row["totals"] = {k: v for k, v in (row["totals"] or {}).items() if v and k != "run_id"}
    click.echo(report.table(rows, ["id", "kind", "source", "started_at", "finished_at", "ok", "error",
                                   "totals"], width=400))


@main.command()
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000),
              help="Rows shown per view.")
@click.option("--json", "as_json", is_flag=True, help="Print the views as JSON.")
def audit(database_url: str | None, limit: int, as_json: bool) -> None:
    """Render the payments.audit_* views and check_invariants(). Exits 1 when an
    invariant is violated."""
    from runner import report

    with report.connect(_db_or_exit(database_url)) as conn:
        views = report.audit(conn, limit)
        violations = report.fetch(conn, "check_invariants")
    if as_json:
        _json_out({"views": views, "invariant_violations": violations})
    else:
        for view, title in report.AUDIT_VIEWS:
            click.echo(f"== {title} (payments.{view}): {len(views[view])} row(s)")
            if views[view]:
                click.echo(report.table(views[view]))
            click.echo()
        click.echo(f"== Invariants (payments.check_invariants()): {len(violations)} violation(s)")
        if violations:
            click.echo(report.table(violations))
    sys.exit(1 if violations else 0)


@main.command()
@click.argument("order_number")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the order and timeline as JSON.")
def order(order_number: str, database_url: str | None, as_json: bool) -> None:
    """Show one order and its full timeline from webhook_logs (every gateway
    event and decision, rejection, repair and operator action)."""
    import psycopg

    from runner import report

    with report.connect(_db_or_exit(database_url)) as conn:
        try:
            summary = report.fetch(conn, "order_summary", order_id=order_number)[0]["summary"]
        except psycopg.Error as exc:
            if exc.sqlstate == "PM001":
                _fail(f"unknown order {order_number}")
            raise
        timeline = report.fetch(conn, "order_timeline", order_id=order_number)
    if as_json:
        _json_out({"order": summary, "timeline": timeline})
        return
    items = summary.pop("items")
    reviews = summary.pop("open_reviews")
    transactions = summary.pop("transactions")
    reasons = ", ".join(r["reason"] + (f" ({r['subject']})" if r["subject"] else "") for r in reviews)
    click.echo(f"Order {summary['order_number']} ({summary['kind']}): {summary['status']}"
               + (f", NEEDS REVIEW: {reasons}" if reviews else ""))
    keys = ["gross_amount", "standing", "accepted_amount", "currency", "expires_at", "paid_at",
            "tickets_issued_at", "capacity_released_at", "pickup_code", "stock_confirmed_at",
            "stock_released_at", "shortfall_at", "expired_locally_at", "refunded_manually_at", "repair",
            "created_at", "updated_at"]
    for key in keys:
        if summary.get(key) is not None:
            click.echo(f"  {key:<24} {summary[key]}")
    click.echo("\nTransactions (the ledger):")
    ledger_columns = ["transaction_id", "transaction_status", "fraud_status", "gross_amount", "refund_amount",
                      "covers", "seen_paid", "updated_at"]
    click.echo(report.table(transactions, ledger_columns))
    click.echo("\nItems:")
    item_columns = ("slot", "sku", "quantity", "finalized_quantity", "active_tickets", "void_tickets")
    click.echo(report.table(items, [c for c in item_columns if items and c in items[0]]))
    click.echo("\nTimeline:")
    for row in timeline:
        row["detail"] = {k: v for k, v in (row["detail"] or {}).items() if v not in (None, [], {})}
    click.echo(report.table(timeline, ["at", "source", "event_type", "transaction_status", "transaction_id",
                                       "outcome", "detail"]))


# -- actions at Midtrans ------------------------------------------------------------------------

def _midtrans_action(action: str, order_number: str, database_url: str | None, as_json: bool,
                     amount: int | None = None, note: str | None = None) -> None:
    """Run one operator action (runner/actions.py): one line, exit 0 done (or done
    before), 1 refused / unavailable / unknown order, 2 configuration."""
    from runner import actions
    from runner.serve import midtrans_client

    settings = _settings(database_url=database_url)
    _require(settings, database=True, server_key=True)
    _configure_logging()

    async def go() -> actions.Outcome:
        client = midtrans_client(settings)
        try:
            conn = await actions.connect(settings.require_database())
            async with conn:
                return await actions.perform(conn, client, action, order_number, amount, note)
        finally:
            await client.aclose()

    outcome = asyncio.run(go())
    if as_json:
        click.echo(json.dumps({"ok": outcome.exit_code == 0, "line": outcome.line, "result": outcome.result},
                              default=str))
    elif outcome.exit_code == 0:
        click.echo(outcome.line)
    if outcome.exit_code:
        _fail(outcome.line, outcome.exit_code)


_ACTION_EPILOG = ("Exit codes: 0 done (or Midtrans had done it already), 1 refused by Midtrans (412, 404, "
                  "401), Midtrans unavailable, unknown order or the database refused, 2 configuration.")


@main.command(epilog=_ACTION_EPILOG)
@click.argument("order_number")
@click.option("--amount", type=click.IntRange(1), help="Capture this much (whole rupiah, at most the "
              "authorised amount); default: all of it.")
@click.option("--note", help="Why; stored with the action.")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def capture(order_number: str, amount: int | None, note: str | None, database_url: str | None,
            as_json: bool) -> None:
    """Capture an order's card pre-authorisation at Midtrans (POST /v2/capture)
    and apply Midtrans' answer: the order is paid and fulfilled.

    Asks the Status API first: already captured is a no-op (exit 0), so a
    repeat, also after a timeout, is safe. The authorisation must be in the
    ledger (from the webhook or sync). Logged with your login (session_user)."""
    _midtrans_action("capture", order_number, database_url, as_json, amount, note)


@main.command(epilog=_ACTION_EPILOG)
@click.argument("order_number")
@click.option("--note", help="Why; stored with the action.")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def approve(order_number: str, note: str | None, database_url: str | None, as_json: bool) -> None:
    """Accept an order's fraud-challenged card payment at Midtrans
    (POST /v2/{id}/approve) and apply the answer: the order is paid.

    Already accepted is a no-op (exit 0). Logged with your login."""
    _midtrans_action("approve", order_number, database_url, as_json, None, note)


@main.command(epilog=_ACTION_EPILOG)
@click.argument("order_number")
@click.option("--note", help="Why; stored with the action.")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def deny(order_number: str, note: str | None, database_url: str | None, as_json: bool) -> None:
    """Deny an order's fraud-challenged card payment at Midtrans
    (POST /v2/{id}/deny) and apply the answer: the attempt failed, the order
    stays pending (the customer may pay again) and the challenge review closes.

    Already denied is a no-op (exit 0). Logged with your login."""
    _midtrans_action("deny", order_number, database_url, as_json, None, note)


@main.command(epilog=_ACTION_EPILOG)
@click.argument("order_number")
@click.option("--note", help="Why; stored with the action.")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def cancel(order_number: str, note: str | None, database_url: str | None, as_json: bool) -> None:
    """Cancel an order's pending, authorised or not yet settled payment at
    Midtrans (POST /v2/{id}/cancel) and apply the answer: the order is failed
    and its capacity / stock released.

    Already cancelled is a no-op (exit 0); a settled payment is refused by
    Midtrans (exit 1, nothing changed). Logged with your login."""
    _midtrans_action("cancel", order_number, database_url, as_json, None, note)
# -- refunds ---------------------------------------------------------------------------------

def _refund_client(settings: Settings) -> Any:
    from runner.serve import midtrans_client

    return midtrans_client(settings)


def _refund_options(amount: str | None, reason: str | None, transaction_id: str | None,
                    return_tickets: str | None, restock: str | None, direct: bool | None) -> dict[str, Any]:
    # checked by refund_order: a bad amount or goods list is a refusal (one line, exit 1)
    return {"amount": amount, "reason": reason, "transaction_id": transaction_id,
            "return_tickets": return_tickets, "restock": restock, "direct": direct}


def _refund_click_options(func: Callable[..., Any], with_reason: bool = True) -> Callable[..., Any]:
    options = [
        click.option("--amount", help="Refund this much (default: everything left of the transaction)."),
        *([click.option("--reason", help="Reason sent to Midtrans (at most 255 characters).")]
          if with_reason else []),
        click.option("--transaction", "transaction_id",
                     help="The Midtrans transaction_id to refund (when the order has several settled)."),
        click.option("--return-tickets", metavar="CODE|ID,...",
                     help="Tickets that go back with a partial refund: voided, their seats free again."),
        click.option("--restock", metavar="SKU=QTY,...",
                     help="Units that go back with a partial refund: sold -> back on sale."),
        click.option("--direct/--no-direct", default=None,
                     help="Force the Direct Refund API (or the Refund API); default: as Midtrans routes the "
                          "payment method (cards acquired by BCA, Maybank, BRI go direct)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command()
@click.argument("order_number")
@_refund_click_options
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the recorded refund as JSON.")
def refund(order_number: str, amount: str | None, reason: str | None, transaction_id: str | None,
           return_tickets: str | None, restock: str | None, direct: bool | None, database_url: str | None,
           as_json: bool) -> None:
    """Refund an order at Midtrans, then record it (a login in payments_operator).

    The request and its refund_key are recorded first; then Midtrans' Refund
    API (or Direct Refund API) refunds the order's settled transaction, in full
    or --amount; then its Status API answer is applied and the goods named with
    --return-tickets / --restock go back, in one transaction. A partial refund
    keeps the goods unless named; a full refund releases everything. When
    Midtrans' answer does not arrive, the request stays open and running the
    same command again reuses its key: Midtrans refunds at most once.
    Refusals (not settled, method not refundable, refund window passed, amount
    above what is left, unknown order, bad amount) print one line and exit 1;
    nothing changes but the request, marked refused."""
    from runner import refunds

    settings = _settings(database_url=database_url)
    _require(settings, database=True, server_key=True)
    options = _refund_options(amount, reason, transaction_id, return_tickets, restock, direct)
    _configure_logging()

    async def go() -> dict[str, Any]:
        async with _refund_client(settings) as client:
            return await refunds.refund_order(settings.require_database(), client, order_number, **options)

    try:
        result = asyncio.run(go())
    except refunds.RefundError as exc:
        _fail(str(exc))
    if as_json:
        _json_out(result)
    else:
        click.echo(refunds.summary(result))


@main.command()
@click.argument("order_number")
@click.argument("reason")
@click.option("--refund", "action", flag_value="refund",
              help="Refund at Midtrans first (as `payments refund`), then resolve with that refund.")
@click.option("--refunded-in-dashboard", "action", flag_value="refunded_in_dashboard",
              help="The money already went back in the Midtrans dashboard: the order is refunded, "
                   "everything it holds released.")
@click.option("--accept", "action", flag_value="accept", help="Accept (paid_after_release, amount_mismatch).")
@click.option("--dismiss", "action", flag_value="dismiss", help="Close the review, change nothing else.")
@click.option("--subject", help="Which review of that reason (a transaction id), as `payments order` shows.")
@click.option("--note", help="Why (stored with the review, at most 2000 characters; sent to Midtrans as "
                             "the refund's reason, cut at 255).")
@functools.partial(_refund_click_options, with_reason=False)
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def resolve(order_number: str, reason: str, action: str | None, subject: str | None, note: str | None,
            amount: str | None, transaction_id: str | None, return_tickets: str | None, restock: str | None,
            direct: bool | None, database_url: str | None, as_json: bool) -> None:
    """Resolve an open review of an order (a login in payments_operator).

    Exactly one of --refund, --refunded-in-dashboard, --accept, --dismiss.
    --refund moves the money at Midtrans first (with --amount, --transaction,
    --return-tickets, --restock as `payments refund`; the note is the reason
    sent to Midtrans) and resolves the review only once Midtrans refunded.
    --refunded-in-dashboard records money returned in the Midtrans dashboard,
    without calling Midtrans."""
    from runner import refunds

    if action is None:
        _fail("say one of --refund, --refunded-in-dashboard, --accept, --dismiss "
              "(see payments resolve --help)", 2)
    settings = _settings(database_url=database_url)
    _require(settings, database=True, server_key=action == "refund")
    options: dict[str, Any] = {}
    if action == "refund":
        options = _refund_options(amount, note[:255] if note else None, transaction_id, return_tickets,
                                  restock, direct)
    _configure_logging()

    async def go() -> dict[str, Any]:
        if action != "refund":
            return await refunds.resolve_review(settings.require_database(), None, order_number, reason,
                                                str(action), note=note, subject=subject)
        async with _refund_client(settings) as client:
            return await refunds.resolve_review(settings.require_database(), client, order_number, reason,
                                                str(action), note=note, subject=subject,
                                                refund_options=options)

    try:
        result = asyncio.run(go())
    except refunds.RefundError as exc:
        _fail(str(exc))
    if as_json:
        _json_out(result)
        return
    if result.get("refund"):
        click.echo(refunds.summary(result["refund"]))
    closed = result.get("closed_by")
    click.echo(f"resolve {order_number} {reason}: {result.get('action')}"
               + (f", closed by {closed}" if closed else "")
               + f"; order {result.get('status')}"
               + ("; other reviews still open" if result.get("needs_review") else ""))


# -- demo ------------------------------------------------------------------------------------

@main.command()
@click.option("--database-url", envvar="PAYMENTS_DATABASE_URL",
              help="Run against this database instead of an embedded PostgreSQL (env PAYMENTS_DATABASE_URL).")
@click.option("--reset-database", is_flag=True,
              help="Allow wiping the payments tables of a database that holds non-demo orders.")
@click.option("--workdir", default=".payments", show_default=True, type=click.Path(file_okay=False),
              help="Where the embedded PostgreSQL keeps its data and the demo its process logs.")
def demo(database_url: str | None, reset_database: bool, workdir: str) -> None:
    """Play the failures this project exists for, live, and show the books end up right.

    Starts an embedded PostgreSQL (unless a database URL is given), migrates it,
    starts the Midtrans simulator and `payments serve`, then: a lost webhook healed
    by sync; an expired payment releasing seats and stock; late and duplicate
    webhooks applied once; orders marked paid by foreign code repaired by
    reconciliation; a late payment on a sold-out show flagged for review.
    Ends with a before/after table and check_invariants(). Exit 0 when every
    expectation held, 1 otherwise, 2 when the database was refused. Ctrl-C stops
    everything cleanly."""
    from pathlib import Path

    from runner.demo import DemoError, run_demo

    if database_url:
        _settings(database_url=database_url)  # validates the URL, one clear line if not
    try:
        code = run_demo(database_url, reset_database, Path(workdir).resolve())
    except DemoError as exc:
        _fail(f"demo: {exc}", 2)
    except KeyboardInterrupt:
        click.echo("\ninterrupted; everything stopped", err=True)
        code = 130
    sys.exit(code)


# -- simulator ------------------------------------------------------------------------

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--port", default=8900, show_default=True, type=int, help="Listen port.")
@click.option("--notify-url", help="Where to POST notifications, e.g. http://127.0.0.1:8080/midtrans/notification")
@click.option("--retry-scale", default=1.0, show_default=True, type=float,
              help="Multiply Midtrans' retry delays (2m, 10m, 30m, 1.5h, 3.5h) by this; 0.01 for demos.")
def simulator(host: str, port: int, notify_url: str | None, retry_scale: float) -> None:
    """Run a Midtrans simulator for one merchant (local development, demos, tests).

    Speaks Midtrans' merchant API as documented (Snap / Core charge, GET
    /v2/{id}/status, expire, cancel, approve, deny, capture, refund and direct
    refund, each with Midtrans' status codes), sends signed notifications to
    --notify-url with Midtrans' retry and redirect rules, and has a control API
    under /_sim to move transactions through real Midtrans transitions and
    inject faults (drop, delay, duplicate, reorder, bad signature, Status API
    5xx / timeouts / delays). Uses MIDTRANS_SERVER_KEY."""
    from runner.simulator import run

    settings = _settings()
    _require(settings, server_key=True)
    _configure_logging()
    run(host=host, port=port, server_key=settings.require_server_key(), notify_url=notify_url,
        retry_scale=retry_scale)


# -- checkout -------------------------------------------------------------------------

@main.command()
@click.argument("order")
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def checkout(order: str, database_url: str | None, as_json: bool) -> None:
    """Create an order and its Snap transaction; print the Snap token and redirect URL.

    ORDER is the order as JSON, @FILE to read it from a file, or - for stdin:
    {"order_number": "TKT-1001", "kind": "ticket", "items": [{"slot":
    "CONCERT-SAT-19", "quantity": 2, "unit_price": 75000}], "gross_amount":
    150000, "customer_details": {...}, "hold": "15m"}. Midtrans' payment window
    (Snap `expiry`) ends no later than the order's hold. Running it again with
    the same order number prints the same token and creates nothing. If Snap
    refuses or cannot be reached, the order is released at once. Exit 0 with a
    token, 1 without (one line saying why), 2 configuration."""
    from runner.checkout import CheckoutError, jsonable, run_checkout

    settings = _settings(database_url=database_url)
    _require(settings, database=True, server_key=True)
    try:
        if order == "-":
            text = sys.stdin.read()
        elif order.startswith("@"):
            with open(order[1:], encoding="utf-8") as handle:
                text = handle.read()
        else:
            text = order
    except OSError as exc:
        _fail(f"payments checkout: cannot read {order[1:]!r} ({exc.strerror or type(exc).__name__})")
    try:
        payload = json.loads(text)
    except ValueError:
        _fail("payments checkout: the order is not JSON (bad_request)")
    from runner import logs

    try:   # errors only: the command's answer is its one line (retries are not news here)
        logs.configure(settings_mod.log_settings()[0], "ERROR")
    except SettingsError as exc:
        _fail(f"configuration error: {exc}", 2)
    try:
        result = jsonable(run_checkout(settings, payload))
    except CheckoutError as exc:
        _fail(f"payments checkout: {exc.message} ({exc.reason})")
    if as_json:
        click.echo(json.dumps(result))
        return
    again = " (stored by an earlier checkout)" if result["replayed"] else ""
    click.echo(f"checkout {result['order_number']}: token {result['token']}{again}\n"
               f"  pay at {result['redirect_url']}\n"
               f"  Midtrans' window ends {result['snap_expires_at']}, "
               f"the order holds until {result['expires_at']}")


if __name__ == "__main__":
    main()
