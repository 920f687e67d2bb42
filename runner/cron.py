"""`payments schedule-cron`: network-free reconciliation and log retention
scheduled by pg_cron.

pg_cron lives in one database of the cluster (``cron.database_name``); jobs
run in the payments database through ``cron.schedule_in_database``. Jobs are
identified by name (``payments-reconcile-local:<database>`` and
``payments-prune-logs:<database>``), so installing twice replaces them
instead of adding second ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg

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


def _cron_conn(database_url: str, cron_database_url: str | None) -> tuple[psycopg.Connection, str]:
    with psycopg.connect(database_url) as conn:
        target_db = conn.execute("SELECT current_database()").fetchone()[0]
        row = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()
    cron_db = row[0] if row and row[0] else None
    if cron_database_url is None:
        if cron_db is None:
            raise RuntimeError("pg_cron is not loaded on this server "
                               "(shared_preload_libraries = 'pg_cron', then restart)")
        cron_database_url = _with_db(database_url, cron_db)
    conn = psycopg.connect(cron_database_url, autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
    return conn, target_db


def install(database_url: str, every: str, batch_size: int = 500,
            cron_database_url: str | None = None) -> CronJob:
    """Installs (replacing by name) the reconcile job and the hourly log-retention job;
    returns the reconcile job."""
    schedule = cron_expression(every)
    conn, target_db = _cron_conn(database_url, cron_database_url)
    with conn, conn.transaction():
        name, prune = job_name(target_db), prune_job_name(target_db)
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN (%s, %s)", (name, prune))
        conn.execute("SELECT cron.schedule_in_database(%s, %s, %s, %s)",
                     (name, schedule, job_command(batch_size), target_db))
        conn.execute("SELECT cron.schedule_in_database(%s, %s, %s, %s)",
                     (prune, PRUNE_SCHEDULE, PRUNE_COMMAND, target_db))
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
