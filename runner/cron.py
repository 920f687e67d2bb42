"""`payments schedule-cron`: network-free reconciliation and log retention
scheduled by pg_cron.

pg_cron lives in one database of the cluster (``cron.database_name``). When
that is the payments database (Supabase), jobs are made with ``cron.schedule``,
which any login granted USAGE on schema cron may call; otherwise with
``cron.schedule_in_database`` (superusers, or a login granted EXECUTE on it).
Nothing here needs superuser: cron.database_name (readable only by superusers)
is read only when pg_cron is not in the payments database, and CREATE EXTENSION
is tried only when pg_cron is missing. Non-superusers see and replace only
their own jobs (pg_cron's row security). Jobs are
identified by name (``payments-reconcile-local:<database>`` and
``payments-prune-logs:<database>``), so installing twice replaces them
instead of adding second ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg.sql

from runner import db

JOB_PREFIX = "payments-reconcile-local"
PRUNE_PREFIX = "payments-prune-logs"
PRUNE_SCHEDULE = "17 * * * *"   # hourly, off the full hour
_EVERY = re.compile(r"^\s*(\d+)\s*(minute|minutes|min|m|hour|hours|h)\s*$", re.I)


def cron_expression(every: str) -> str:
    """'5 minutes' -> '*/5 * * * *', '2 hours' -> '0 */2 * * *'; a 5-field cron string passes."""
    if len(every.split()) == 5:
        return every.strip()
    match = _EVERY.match(every)
    if not match:
        raise ValueError(f"--every must look like '5 minutes', '1 hour' or a cron expression (got {every!r})")
    n, unit = int(match.group(1)), match.group(2).lower()
    if unit.startswith("m"):
        if not 1 <= n <= 59:
            raise ValueError("minutes must be between 1 and 59")
        return "* * * * *" if n == 1 else f"*/{n} * * * *"
    if not 1 <= n <= 23:
        raise ValueError("hours must be between 1 and 23")
    return "0 * * * *" if n == 1 else f"0 */{n} * * *"


def _with_db(url: str, dbname: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + dbname, p.query, p.fragment))


@dataclass
class CronJob:
    jobid: int
    jobname: str
    schedule: str
    command: str
    database: str
    active: bool


def job_name(database: str) -> str:
    return f"{JOB_PREFIX}:{database}"


def prune_job_name(database: str) -> str:
    return f"{PRUNE_PREFIX}:{database}"


def job_command(batch_size: int) -> str:
    # a procedure committing after each repair: CALL, never SELECT
    return f"CALL payments.reconcile_local({int(batch_size)}, 'cron')"


PRUNE_COMMAND = "SELECT payments.prune_logs(10000, 'cron')"


class CronError(RuntimeError):
    """pg_cron is missing, not granted or not reachable; one line saying what to do."""



def _has_pg_cron(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')"
                        ).fetchone()[0]


def _cron_database_name(conn: psycopg.Connection) -> tuple[bool | None, str | None]:
    """(pg_cron loaded, cron.database_name), both None when this login may not read it.

    cron.database_name is a superuser-only setting: it is read only by a login
    that may (a superuser, a member of pg_read_all_settings); anyone else never
    asks, and pg_cron's database is found by connecting to it. Unset: pg_cron is
    not loaded."""
    may_read = conn.execute(
        "SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')"
        "  FROM pg_catalog.pg_roles WHERE rolname = current_user").fetchone()[0]
    if not may_read:
        return None, None
    row = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()
    return bool(row and row[0]), (row[0] if row and row[0] else None)


def _cron_conn(database_url: str, cron_database_url: str | None) -> tuple[psycopg.Connection, str]:
    """An autocommit connection to pg_cron's database, and the payments database's name.

    pg_cron's database is, in order: --cron-database-url; the payments database
    itself when pg_cron is installed there (Supabase: both are `postgres`);
    cron.database_name when this login may read it (a superuser-only setting,
    never asked by anyone else); else pg_cron's default, `postgres`."""
    with db.connect(database_url, autocommit=True) as conn:
        target_db, user = conn.execute("SELECT current_database(), current_user").fetchone()
        here = _has_pg_cron(conn)
        loaded, configured = _cron_database_name(conn)
    if loaded is False and not here:
        raise CronError("pg_cron is not loaded on this server (shared_preload_libraries = 'pg_cron', "
                        "then restart; on Supabase enable the pg_cron extension)")
    if cron_database_url is None:
        cron_db = target_db if here else (configured or "postgres")
        cron_database_url = database_url if here else _with_db(database_url, cron_db)
    try:
        conn = db.connect(cron_database_url, autocommit=True)
    except psycopg.OperationalError as exc:
        first = (str(exc).strip().splitlines() or ["connection failed"])[0]
        raise CronError(f"cannot connect to pg_cron's database ({first}); pass --cron-database-url "
                        "(the database named by cron.database_name)") from None
    try:
        cron_db, user = conn.execute("SELECT current_database(), current_user").fetchone()
        if not _has_pg_cron(conn):
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
            except psycopg.Error as exc:
                raise CronError(
                    f"pg_cron is not installed in database {cron_db} and {user} may not install it "
                    f"({exc.sqlstate}): a superuser runs CREATE EXTENSION pg_cron there (the database "
                    f"named by cron.database_name; else pass --cron-database-url)") from None
        if not conn.execute("SELECT has_schema_privilege('cron', 'USAGE')").fetchone()[0]:
            raise CronError(f"{user} may not use pg_cron: a superuser runs, in database {cron_db}: "
                            f"GRANT USAGE ON SCHEMA cron TO {_ident(conn, user)};")
    except BaseException:
        conn.close()
        raise
    return conn, target_db


def _ident(conn: psycopg.Connection, name: str) -> str:
    return psycopg.sql.Identifier(name).as_string(conn)


def _schedule(conn: psycopg.Connection, name: str, schedule: str, command: str, target_db: str) -> None:
    """cron.schedule when pg_cron lives in the payments database (any granted login may);
    cron.schedule_in_database otherwise (EXECUTE is revoked from PUBLIC by pg_cron)."""
    if conn.execute("SELECT current_database()").fetchone()[0] == target_db:
        conn.execute("SELECT cron.schedule(%s, %s, %s)", (name, schedule, command))
        return
    signature = "cron.schedule_in_database(text,text,text,text,text,boolean)"
    if not conn.execute("SELECT has_function_privilege(%s, 'EXECUTE')", (signature,)).fetchone()[0]:
        user = conn.execute("SELECT current_user").fetchone()[0]
        raise CronError(f"pg_cron lives in database {conn.info.dbname}, not {target_db}, and {user} may not "
                        f"schedule into another database: a superuser runs there: GRANT EXECUTE ON FUNCTION "
                        f"{signature} TO {_ident(conn, user)};")
    conn.execute("SELECT cron.schedule_in_database(%s, %s, %s, %s)", (name, schedule, command, target_db))


def install(database_url: str, every: str, batch_size: int = 500,
            cron_database_url: str | None = None) -> CronJob:
    """Installs (replacing by name) the reconcile job and the hourly log-retention job;
    returns the reconcile job."""
    schedule = cron_expression(every)
    conn, target_db = _cron_conn(database_url, cron_database_url)
    with conn, conn.transaction():
        name, prune = job_name(target_db), prune_job_name(target_db)
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN (%s, %s)", (name, prune))
        _schedule(conn, name, schedule, job_command(batch_size), target_db)
        _schedule(conn, prune, PRUNE_SCHEDULE, PRUNE_COMMAND, target_db)
        return _jobs(conn, name)[0]


def remove(database_url: str, cron_database_url: str | None = None) -> int:
    conn, target_db = _cron_conn(database_url, cron_database_url)
    with conn, conn.transaction():
        rows = conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN (%s, %s)",
                            (job_name(target_db), prune_job_name(target_db))).fetchall()
    return len(rows)


def list_jobs(database_url: str, cron_database_url: str | None = None) -> list[CronJob]:
    conn, target_db = _cron_conn(database_url, cron_database_url)
    with conn:
        return _jobs(conn, job_name(target_db)) + _jobs(conn, prune_job_name(target_db))


def _jobs(conn: psycopg.Connection, name: str) -> list[CronJob]:
    rows = conn.execute("SELECT jobid, jobname, schedule, command, database, active FROM cron.job"
                        " WHERE jobname = %s ORDER BY jobid", (name,)).fetchall()
    return [CronJob(*row) for row in rows]
