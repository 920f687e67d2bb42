"""`payments schedule-cron` on a PostgreSQL with pg_cron loaded."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from tests.test_migrate import payments


def cron_jobs(pg_server, dbname: str) -> list[tuple]:
    with psycopg.connect(pg_server.admin_url) as conn:
        return conn.execute("SELECT jobname, schedule, command, database FROM cron.job"
                            " WHERE database = %s ORDER BY jobid", (dbname,)).fetchall()


def test_install_is_idempotent_runs_the_repair_and_removes(pg_server, pg_cron, db, db_url) -> None:
    dbname = db.execute("SELECT current_database()").fetchone()[0]

    for _ in range(2):
        result = payments("schedule-cron", "--every", "5 minutes", "--database-url", db_url)
        assert result.returncode == 0, result.stderr
    jobs = cron_jobs(pg_server, dbname)
    assert jobs == [(f"payments-reconcile-local:{dbname}", "*/5 * * * *",
                     "CALL payments.reconcile_local(500, 'cron')", dbname),
                    (f"payments-prune-logs:{dbname}", "17 * * * *",
                     "SELECT payments.prune_logs(10000, 'cron')", dbname)]

    # a paid order (its payment is in the ledger) missing its tickets: what the job is for
    db.execute("SELECT payments.create_ticket_slot('C', 5)")
    db.execute("SELECT payments.create_ticket_order('CRON-1', %s, now() + interval '1 hour', 10)",
               (Jsonb([{"slot": "C", "quantity": 2}]),))
    db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
               " stage, gross_amount, seen_paid) SELECT id, 'tx-1', 'settlement', 22, 10, true"
               " FROM payments.orders")
    db.execute("UPDATE payments.orders SET status = 'paid'")
    db.execute(jobs[0][2])
    assert db.execute("SELECT count(*) FROM payments.tickets").fetchone()[0] == 2
    assert db.execute("SELECT source, totals->>'reconcile_fix_ticket_issued' FROM payments.runs"
                      ).fetchall() == [("cron", "1")]
    assert db.execute("SELECT event_type, source FROM payments.webhook_logs ORDER BY id").fetchall() == [
        ("reconcile_fix_ticket_issued", "cron"), ("reconcile_run", "cron")]

    listed = payments("schedule-cron", "--list", "--database-url", db_url)
    assert "*/5 * * * *" in listed.stdout
    removed = payments("schedule-cron", "--remove", "--database-url", db_url)
    assert removed.returncode == 0 and "removed 2" in removed.stdout
    assert cron_jobs(pg_server, dbname) == []


def test_schedule_shorthands_and_bad_input(db_url) -> None:
    from runner.cron import cron_expression

    assert cron_expression("1 minute") == "* * * * *"
    assert cron_expression("2 hours") == "0 */2 * * *"
    assert cron_expression("15 3 * * *") == "15 3 * * *"
    bad = payments("schedule-cron", "--every", "fortnightly", "--database-url", db_url)
    assert bad.returncode == 2
    assert "--every must look like" in bad.stderr
