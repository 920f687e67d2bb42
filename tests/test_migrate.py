"""`payments migrate`: idempotent, concurrent-safe, reversible, and the schema
it produces matches the committed snapshot db/schema.snapshot (one line per
object, function bodies as hashes; tests/schema_snapshot.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.pgserver import Server
from tests.schema_snapshot import snapshot

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "db" / "schema.snapshot"
# every migration, in the order yoyo applies them (each depends on the one before)
MIGRATIONS = sorted(p.name.removesuffix(".sql") for p in (ROOT / "db" / "migrations").glob("*.sql")
                    if not p.name.endswith(".rollback.sql"))


def payments(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=ROOT, timeout=120)


def normalized_dump(server: Server, url: str) -> str:
    """The catalog snapshot of the migrated schema (tests/schema_snapshot.py)."""
    return snapshot(url)


def test_migrate_twice_changes_nothing(pg_server: Server, empty_db_url: str) -> None:
    first = payments("migrate", "--database-url", empty_db_url)
    assert first.returncode == 0, first.stderr
    assert MIGRATIONS[:5] == ["0001.create-schema", "0002.roles", "0003.trust-boundary", "0004.money-ledger",
                              "0005.leases"]
    assert "applied " + ", ".join(MIGRATIONS) in first.stdout
    dump_after_first = normalized_dump(pg_server, empty_db_url)

    second = payments("migrate", "--json", env={"PAYMENTS_DATABASE_URL": empty_db_url})
    assert second.returncode == 0, second.stderr
    assert '"applied": []' in second.stdout
    assert '"functions_changed": false' in second.stdout
    assert normalized_dump(pg_server, empty_db_url) == dump_after_first

    # an internal function edited by hand is put back, and migrate says so
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE FUNCTION payments_private.cover(stage smallint, gross_amount numeric)"
                     " RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT gross_amount'")
    third = payments("migrate", "--json", env={"PAYMENTS_DATABASE_URL": empty_db_url})
    assert third.returncode == 0, third.stderr
    assert '"functions_changed": true' in third.stdout
    assert normalized_dump(pg_server, empty_db_url) == dump_after_first


def test_rollback_then_migrate_restores_the_same_schema(pg_server: Server, empty_db_url: str) -> None:
    assert payments("migrate", "--database-url", empty_db_url).returncode == 0
    before = normalized_dump(pg_server, empty_db_url)

    for migration in reversed(MIGRATIONS):
        down = payments("migrate", "--rollback", "--database-url", empty_db_url)
        assert down.returncode == 0, down.stderr
        assert f"rolled back {migration}" in down.stdout
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regnamespace('payments')").fetchone()[0] is None

    up = payments("migrate", "--database-url", empty_db_url)
    assert up.returncode == 0, up.stderr
    assert normalized_dump(pg_server, empty_db_url) == before


def test_concurrent_migrations_both_succeed(pg_server: Server, empty_db_url: str) -> None:
    cmd = [sys.executable, "-m", "runner.cli", "migrate", "--database-url", empty_db_url]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [code for _, _, code in results] == [0, 0, 0], results
    applied = [out for out, _, _ in results if "applied 0001" in out]
    assert len(applied) == 1, "exactly one process applies the migrations"


def test_schema_matches_committed_snapshot(pg_server: Server, db_url: str) -> None:
    """db/schema.snapshot is regenerated with PAYMENTS_UPDATE_SNAPSHOT=1; a diff here means
    the schema changed without the snapshot being reviewed and committed."""
    current = normalized_dump(pg_server, db_url)
    if os.environ.get("PAYMENTS_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.exists(), "run PAYMENTS_UPDATE_SNAPSHOT=1 scripts/test tests/test_migrate.py"
    assert current == SNAPSHOT.read_text(), (
        "schema differs from db/schema.snapshot; review and regenerate with "
        "PAYMENTS_UPDATE_SNAPSHOT=1 scripts/test tests/test_migrate.py -k snapshot")


def test_bad_database_url_fails_with_one_clear_line() -> None:
    result = payments("migrate", "--database-url", "mysql://nobody@127.0.0.1/x")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "postgresql://" in result.stderr


def test_missing_database_url_is_a_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PAYMENTS_DATABASE_URL"}
    result = subprocess.run([sys.executable, "-m", "runner.cli", "migrate"], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert re.search(r"Missing option '--database-url'", result.stderr)


@pytest.mark.parametrize("password", ["s3cret-pw"])
def test_failure_output_never_shows_the_password(password: str) -> None:
    url = f"postgresql://someone:{password}@127.0.0.1:1/nowhere"
    result = payments("migrate", "--database-url", url)
    assert result.returncode == 1
    assert password not in result.stderr + result.stdout


def test_migration_0003_scrubs_signatures_stored_before_it(empty_db_url: str) -> None:
    """Rows written before the trust-boundary migration kept each notification's
    signature_key (and a malformed body's prefix could hold one): readers could
    replay them. The migration removes them all."""
    from yoyo import get_backend, read_migrations

    from runner.migrate import yoyo_url
    from runner.paths import db_dir

    backend = get_backend(yoyo_url(empty_db_url))
    try:
        migrations = read_migrations(str(db_dir() / "migrations"))
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations.filter(
                lambda m: m.id in ("0001.create-schema", "0002.roles"))))
    finally:
        backend.connection.close()
    secret = "a1" * 64
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO payments.webhook_logs (source, event_type, outcome, payload, detail) VALUES"
            " ('webhook', 'gateway_status', 'paid', %s, '{}'),"
            " ('webhook', 'gateway_status', 'noop', %s, '{}'),"
            " ('webhook', 'malformed_json', '400', NULL, %s)",
            (json.dumps({"order_id": "T-1", "signature_key": secret}),
             json.dumps({"transaction_status": "settlement", "signature_key": secret,
                         "notification": {"signature_key": secret}}),
             json.dumps({"body_prefix": '{"order_id": "T-1", "signature_key": "' + secret + '"'})))
    assert payments("migrate", "--database-url", empty_db_url).returncode == 0
    with psycopg.connect(empty_db_url) as conn:
        rows = conn.execute("SELECT payload, detail FROM payments.webhook_logs ORDER BY id").fetchall()
    assert rows == [({"order_id": "T-1"}, {}),
                    ({"transaction_status": "settlement", "notification": {}}, {}),
                    (None, {"body_prefix": '{"order_id": "T-1", "signature_key": "[scrubbed]"'})]


def test_rolling_back_0010_keeps_the_answers_of_a_run_still_open(empty_db_url: str) -> None:
    """A run open across the rollback of 0010.run-answers: the answers counted in
    payments_private.run_answers are folded into the run's row (where the previous
    release counts them) before the table goes, none lost, none counted twice."""
    assert payments("migrate", "--database-url", empty_db_url).returncode == 0
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("SELECT payments.create_ticket_slot('S', 10)")
        for number in ("R-1", "R-2", "R-3"):
            conn.execute("SELECT payments.create_ticket_order(%s, '[{\"slot\": \"S\", \"quantity\": 1}]',"
                         " payments.clock_now() + interval '1 hour', 100000)", (number,))
        run_id = conn.execute("SELECT DISTINCT run_id FROM payments.start_sync('0', '0', 10,"
                              " ARRAY['R-1', 'R-2', 'R-3'])").fetchone()[0]
        conn.execute("SELECT payments.apply_gateway_status('R-1', 'settlement', NULL, 100000, 'tx-1', '200',"
                     " 'sync', NULL, %s)", (run_id,))
        conn.execute("SELECT payments.apply_status_not_found('R-2', 'sync', NULL, %s)", (run_id,))
        conn.execute("SELECT payments.run_failed(%s, 'R-3', 'timeout')", (run_id,))
    for migration in reversed(MIGRATIONS[MIGRATIONS.index("0010.run-answers"):]):
        down = payments("migrate", "--rollback", "--database-url", empty_db_url)
        assert down.returncode == 0, down.stderr
        assert f"rolled back {migration}" in down.stdout
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('payments_private.run_answers')").fetchone()[0] is None
        assert conn.execute(
            "SELECT finished_at, checked, not_found, failed, changed, answered, changed_orders"
            "  FROM payments.runs WHERE id = %s", (run_id,)).fetchone() == (
            None, 1, 1, 1, 1, ["R-1", "R-2", "R-3"], ["R-1"])


def test_migrate_reads_its_database_url_and_password_from_files(empty_db_url: str, tmp_path: Path) -> None:
    """*_FILE secrets reach the commands that take --database-url from the environment."""
    url_file = tmp_path / "url"
    url_file.write_text(empty_db_url + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENTS_DATABASE_URL")}
    ok = subprocess.run([sys.executable, "-m", "runner.cli", "migrate"], capture_output=True, text=True,
                        env={**env, "PAYMENTS_DATABASE_URL_FILE": str(url_file)}, cwd=ROOT, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "applied 0001.create-schema" in ok.stdout
    both = subprocess.run([sys.executable, "-m", "runner.cli", "migrate"], capture_output=True, text=True,
                          env={**env, "PAYMENTS_DATABASE_URL_FILE": str(url_file),
                               "PAYMENTS_DATABASE_URL": empty_db_url}, cwd=ROOT, timeout=120)
    assert both.returncode == 2
    assert both.stderr.strip().splitlines() == [
        "configuration error: PAYMENTS_DATABASE_URL and PAYMENTS_DATABASE_URL_FILE are both set;"
        " set only one"]
    assert empty_db_url not in both.stderr


def test_migrate_again_recreates_no_function(empty_db_url: str) -> None:
    """Re-applying the SQL API replaces bodies in place: no function is dropped and
    created anew (a live call resolved to the old one would fail), so every OID stays."""
    assert payments("migrate", "--database-url", empty_db_url).returncode == 0
    query = ("SELECT p.oid::regprocedure::text, p.oid::bigint FROM pg_proc AS p"
             " WHERE p.pronamespace IN ('payments'::regnamespace, 'payments_private'::regnamespace)"
             " ORDER BY 1")
    with psycopg.connect(empty_db_url) as conn:
        before = conn.execute(query).fetchall()
    again = payments("migrate", "--database-url", empty_db_url)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute(query).fetchall() == before
