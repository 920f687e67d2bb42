"""Managed PostgreSQL without superuser (Supabase-like).

Each test here runs on its own throwaway cluster made with the same binaries
as the suite's server, because it needs a cluster where the payments roles
do not exist yet (roles are cluster-wide, and the suite's template database
has created them). The logins are ordinary roles: a database owner with
CREATEROLE (Supabase's `postgres`), an owner without it, and logins in
payments_runner and payments_readonly made the way the runbook says.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.pgserver import Server, _local_bin_dir, free_port, start_local_cluster, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
# every migration the product ships, in order (0001.create-schema, ...)
MIGRATIONS = sorted(p.name.removesuffix(".sql") for p in (ROOT / "db" / "migrations").glob("*.sql")
                    if not p.name.endswith(".rollback.sql"))
ROLES = ("payments_runner", "payments_readonly", "payments_operator", "payments_bearer_codes")


def url_as(server: Server, user: str, dbname: str) -> str:
    parts = urlsplit(server.admin_url)
    netloc = f"{user}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, parts.fragment))


def payments(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMENTS_", "MIDTRANS_"))}
    return subprocess.run([sys.executable, "-m", "runner.cli", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, cwd=ROOT, timeout=timeout)


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


@contextmanager
def throwaway_cluster(pg_server: Server) -> Iterator[Server]:
    bin_dir = pg_server.bin_dir or _local_bin_dir()
    if bin_dir is None:
        pytest.skip("needs local PostgreSQL binaries (initdb) for a cluster without the payments roles")
    server = start_local_cluster(bin_dir)
    try:
        wait_until_ready(server)
        yield server
    finally:
        server.stop()


@pytest.fixture()
def bare_cluster(pg_server: Server) -> Iterator[Server]:
    with throwaway_cluster(pg_server) as server:
        yield server


@pytest.fixture(scope="module")
def cluster(pg_server: Server) -> Iterator[Server]:
    with throwaway_cluster(pg_server) as server:
        yield server


def pg_cron_available(server: Server) -> bool:
    with server.admin() as admin:
        return admin.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_cron'"
                             ).fetchone()[0] == 1 and "pg_cron" in admin.execute(
            "SELECT current_setting('shared_preload_libraries')").fetchone()[0]


# -- migrate without superuser -------------------------------------------------------------

def test_without_createrole_migrate_names_the_statements_then_works_once_they_ran(
        bare_cluster: Server) -> None:
    cluster = bare_cluster
    with cluster.admin() as admin:
        admin.execute("CREATE ROLE plain_owner LOGIN")
        admin.execute("CREATE ROLE plain_app LOGIN")
        admin.execute("CREATE DATABASE plain OWNER plain_owner")
    url = url_as(cluster, "plain_owner", "plain")

    refused = payments("migrate", "--database-url", url)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr + refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    line = refused.stderr.strip()
    assert "plain_owner is not a superuser and has no CREATEROLE" in line
    statements = line.split("a superuser must first run: ", 1)[1]
    assert statements == ("CREATE ROLE payments_runner NOLOGIN; CREATE ROLE payments_readonly NOLOGIN; "
                          "CREATE ROLE payments_operator NOLOGIN; CREATE ROLE payments_bearer_codes NOLOGIN; "
                          "GRANT payments_runner, payments_readonly, payments_operator, payments_bearer_codes"
                          ' TO "plain_owner" WITH ADMIN OPTION;')
    with psycopg.connect(url) as conn:  # nothing was changed before the refusal
        assert conn.execute("SELECT to_regnamespace('payments'), to_regclass('_yoyo_migrations')"
                            ).fetchone() == (None, None)

    # a superuser runs exactly what the line says; then the owner migrates alone
    with cluster.admin() as admin:
        admin.execute(statements)
    first = payments("migrate", "--database-url", url)
    assert first.returncode == 0, first.stderr
    assert "applied " + ", ".join(MIGRATIONS) in first.stdout
    again = payments("migrate", "--database-url", url)
    assert again.returncode == 0 and "no migration pending" in again.stdout, again.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        # operators read what readers read; the owner may hand the roles to its logins (ADMIN OPTION)
        assert conn.execute("SELECT pg_has_role('payments_operator', 'payments_readonly', 'USAGE')"
                            ).fetchone()[0]
        conn.execute("GRANT payments_runner TO plain_app")
    with psycopg.connect(url_as(cluster, "plain_app", "plain"), autocommit=True) as app:
        assert app.execute("SELECT count(*) FROM payments.last_runs()").fetchone()[0] == 3

    # rollback too: a login that may not drop roles keeps them (they are cluster-wide)
    for migration in reversed(MIGRATIONS):
        down = payments("migrate", "--rollback", "--database-url", url)
        assert down.returncode == 0 and f"rolled back {migration}" in down.stdout, down.stderr
    assert payments("migrate", "--database-url", url).returncode == 0


# -- a Supabase-like database: owner with CREATEROLE, pg_cron in the same database ----------

@pytest.fixture(scope="module")
def shop(cluster: Server) -> dict[str, str]:
    """Database `shop` owned by `shop_owner` (CREATEROLE, not superuser), migrated by it on
    a cluster where no payments role existed; logins made by the owner as the runbook says."""
    with cluster.admin() as admin:
        admin.execute("CREATE ROLE shop_owner LOGIN CREATEROLE")
        admin.execute("CREATE DATABASE shop OWNER shop_owner")
        existing = admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", (list(ROLES),))
        roles_before = existing.fetchone()[0]
    cron = pg_cron_available(cluster)
    if cron:  # pg_cron's database is the payments database, as on Supabase
        with cluster.admin() as admin:
            admin.execute("ALTER SYSTEM SET cron.database_name = 'shop'")
        cluster.restart()
        wait_until_ready(cluster)
        with psycopg.connect(url_as(cluster, "postgres", "shop"), autocommit=True) as admin:
            admin.execute("CREATE EXTENSION pg_cron")
            admin.execute("GRANT USAGE ON SCHEMA cron TO shop_owner")
    owner = url_as(cluster, "shop_owner", "shop")
    migrated = payments("migrate", "--database-url", owner)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied 0001.create-schema" in migrated.stdout
    with psycopg.connect(owner, autocommit=True) as conn:
        # the runbook's statements, run by the owner (works on PostgreSQL 16+ too: the owner
        # created these roles, so it holds ADMIN OPTION on them)
        conn.execute("CREATE ROLE shop_runner LOGIN IN ROLE payments_runner")
        conn.execute("CREATE ROLE shop_reader LOGIN IN ROLE payments_readonly")
        conn.execute("SELECT payments.create_ticket_slot('R', 10)")
    with psycopg.connect(url_as(cluster, "shop_runner", "shop"), autocommit=True) as runner:
        runner.execute("SELECT payments.create_ticket_order('ROLES-1', %s, now() + interval '1 hour', 10)",
                       (Jsonb([{"slot": "R", "quantity": 1}]),))
    return {"owner": owner, "runner": url_as(cluster, "shop_runner", "shop"),
            "readonly": url_as(cluster, "shop_reader", "shop"), "cron": "yes" if cron else "",
            "roles_before": str(roles_before)}


def test_an_owner_with_createrole_creates_the_roles(shop: dict[str, str], cluster: Server) -> None:
    assert shop["roles_before"] == "0", "the roles must not exist before: migrate created them"
    with cluster.admin() as admin:
        assert admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", (list(ROLES),)
                             ).fetchone()[0] == 4
        superuser = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'shop_owner'").fetchone()[0]
    assert superuser is False


COMMANDS = {
    "migrate": ["migrate"],
    "sync": ["sync", "--once"],
    "reconcile": ["reconcile", "--once"],
    "reconcile-local": ["reconcile", "--once", "--local-only"],
    "prune": ["prune"],
    "schedule-cron": ["schedule-cron", "--list"],
    "alerts": ["alerts"],
    "runs": ["runs"],
    "audit": ["audit"],
    "order": ["order", "ROLES-1"],
    "demo": ["demo"],
}
DENIED = (r"^payments {cmd}: permission denied for \w+ [\w.]+ \(SQLSTATE 42501\)"
          r" — this login lacks that privilege")
NOT_OWNER = r"^migrate: migrate runs as the owner of schema payments \(shop_owner\)"
NO_CRON_USAGE = r"^schedule-cron: {user} may not use pg_cron: a superuser runs, in database shop: " \
                r"GRANT USAGE ON SCHEMA cron TO \"{user}\";$"
DEMO_REFUSES = r"^demo: .* holds 1 non-demo orders"
# (command, role) -> exit code and the final line when it is not 0; alerts exits 1 while an alert fires
EXPECTED: dict[tuple[str, str], tuple[set[int], str | None]] = {
    **{(cmd, "owner"): ({0}, None) for cmd in COMMANDS},
    **{(cmd, "runner"): ({0}, None) for cmd in ("sync", "reconcile", "reconcile-local", "prune", "runs")},
    **{(cmd, "readonly"): ({0}, None) for cmd in ("runs", "audit", "order")},
    **{("alerts", role): ({0, 1}, None) for role in ("owner", "runner", "readonly")},
    ("migrate", "runner"): ({1}, NOT_OWNER),
    ("migrate", "readonly"): ({1}, NOT_OWNER),
    ("schedule-cron", "runner"): ({1}, NO_CRON_USAGE.format(user="shop_runner")),
    ("schedule-cron", "readonly"): ({1}, NO_CRON_USAGE.format(user="shop_reader")),
    ("audit", "runner"): ({1}, DENIED.format(cmd="audit")),
    ("order", "runner"): ({1}, DENIED.format(cmd="order")),
    ("demo", "owner"): ({2}, DEMO_REFUSES),
    ("demo", "runner"): ({1}, DENIED.format(cmd="demo")),
    ("demo", "readonly"): ({2}, DEMO_REFUSES),
    **{(cmd, "readonly"): ({1}, DENIED.format(cmd=cmd.split("-")[0]))
       for cmd in ("sync", "reconcile", "reconcile-local", "prune")},
}


@pytest.mark.parametrize("role", ["owner", "runner", "readonly"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_under_every_documented_role_ends_in_one_line(
        shop: dict[str, str], command: str, role: str, tmp_path: Path) -> None:
    args = [*COMMANDS[command], "--database-url", shop[role]]
    if command == "demo":
        args += ["--workdir", str(tmp_path)]
    # closed: nothing may need it (the shop's pending order is never due for sync here,
    # however long the module takes)
    env = {"MIDTRANS_SERVER_KEY": "SB-Mid-server-roles-test",
           "MIDTRANS_API_BASE_URL": f"http://127.0.0.1:{free_port()}", "PAYMENTS_SYNC_MIN_AGE": "1h"}
    result = payments(*args, env=env)
    codes, final = EXPECTED[(command, role)]
    if command == "schedule-cron" and not shop["cron"]:
        # the owner may not read the superuser-only cron.database_name: it looks for
        # pg_cron in its default database instead, and says what is missing there
        codes, final = {1}, (r"^schedule-cron: (pg_cron is not loaded on this server"
                             r"|pg_cron is not installed in database \w+ and \w+ may not install it"
                             r"|cannot connect to pg_cron's database)")
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode in codes, output
    if final is not None:
        assert re.search(final, last_line(result)), output
        assert "Traceback" not in result.stderr and "\n" not in last_line(result)
    else:
        assert "SQLSTATE" not in result.stderr, output


def test_schedule_cron_as_a_non_superuser_in_the_cron_database(shop: dict[str, str], cluster: Server) -> None:
    if not shop["cron"]:
        pytest.skip("pg_cron is not installed for this server's binaries")
    owner = shop["owner"]
    # cron.database_name is hidden from this login
    with psycopg.connect(owner) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT current_setting('cron.database_name')")
    for _ in range(2):
        installed = payments("schedule-cron", "--every", "10 minutes", "--database-url", owner)
        assert installed.returncode == 0, installed.stderr
    with psycopg.connect(url_as(cluster, "postgres", "shop")) as admin:
        assert admin.execute("SELECT jobname, schedule, database, username FROM cron.job ORDER BY jobid"
                             ).fetchall() == [
            ("payments-reconcile-local:shop", "*/10 * * * *", "shop", "shop_owner"),
            ("payments-prune-logs:shop", "17 * * * *", "shop", "shop_owner")]
    listed = payments("schedule-cron", "--list", "--database-url", owner)
    assert listed.returncode == 0 and "payments-reconcile-local:shop '*/10 * * * *'" in listed.stdout
    removed = payments("schedule-cron", "--remove", "--database-url", owner)
    assert removed.returncode == 0 and "removed 2" in removed.stdout


def test_schedule_cron_into_another_database_names_the_grant(shop: dict[str, str], cluster: Server) -> None:
    if not shop["cron"]:
        pytest.skip("pg_cron is not installed for this server's binaries")
    with cluster.admin() as admin:
        admin.execute("CREATE DATABASE shop2 OWNER shop_owner")
    other = url_as(cluster, "shop_owner", "shop2")
    assert payments("migrate", "--database-url", other).returncode == 0

    # pg_cron is not in shop2 and cron.database_name is hidden: pg_cron's default database is tried
    guessed = payments("schedule-cron", "--database-url", other)
    assert guessed.returncode == 1 and "Traceback" not in guessed.stderr
    assert re.match(r"^schedule-cron: pg_cron is not installed in database postgres and shop_owner may not"
                    r" install it .*pass --cron-database-url\)$", guessed.stderr.strip())

    cron_db = ["--cron-database-url", shop["owner"]]
    refused = payments("schedule-cron", "--database-url", other, *cron_db)
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith(
        "a superuser runs there: GRANT EXECUTE ON FUNCTION "
        'cron.schedule_in_database(text,text,text,text,text,boolean) TO "shop_owner";')
    with psycopg.connect(url_as(cluster, "postgres", "shop"), autocommit=True) as admin:
        admin.execute("GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text,text,text,text,text,boolean)"
                      " TO shop_owner")
    done = payments("schedule-cron", "--database-url", other, *cron_db)
    assert done.returncode == 0, done.stderr
    listed = payments("schedule-cron", "--list", "--database-url", other, *cron_db)
    assert "payments-reconcile-local:shop2" in listed.stdout and "(db shop2)" in listed.stdout
    assert payments("schedule-cron", "--remove", "--database-url", other, *cron_db).returncode == 0


def test_a_login_that_does_not_own_the_schema_is_told_so(shop: dict[str, str], cluster: Server) -> None:
    with cluster.admin() as admin:
        admin.execute("CREATE ROLE other_login LOGIN CREATEROLE")
        admin.execute("CREATE DATABASE owned_by_postgres")
    url = url_as(cluster, "postgres", "owned_by_postgres")
    assert payments("migrate", "--database-url", url).returncode == 0
    refused = payments("migrate", "--database-url", url_as(cluster, "other_login", "owned_by_postgres"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == ("migrate: migrate runs as the owner of schema payments (postgres)"
                                      " or a member of it; login other_login is neither")


@pytest.mark.parametrize("role", ["runner", "readonly"])
def test_serve_under_a_login_runs_and_stops_without_a_traceback(shop: dict[str, str], role: str) -> None:
    """`serve` as a runner login works; as a reader its scheduled runs are refused, one log
    line each, and it still answers /healthz and stops cleanly on SIGTERM."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMENTS_", "MIDTRANS_"))}
    env.update({"MIDTRANS_SERVER_KEY": "SB-Mid-server-roles-test",
                "MIDTRANS_API_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    proc = subprocess.Popen([sys.executable, "-m", "runner.cli", "serve", "--database-url", shop[role],
                             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.2)
        assert health.status_code == 200
        time.sleep(1)  # the first scheduled runs happen at start
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err
    refused = [line for line in err.splitlines() if "permission denied" in line]
    assert bool(refused) == (role == "readonly"), err
    assert all("InsufficientPrivilege" in line for line in refused)
