"""Shows that the order row lock is what makes concurrent settlements safe.

Creates a scratch database, migrates it, replaces payments_private.lock_order()
with a copy that does not lock (its pg_get_functiondef with FOR UPDATE
removed; a short pg_sleep after the read widens the race window), then runs
the same race as
tests/test_concurrency.py::test_fifty_simultaneous_settlements_issue_tickets_once
and prints what happened. Expected: the order decided paid more than once
(every caller read it pending), duplicated tickets / capacity finalized more
than once, or errors. For comparison it then runs the race with the same
sleep but the lock kept, and with the real functions re-applied.
tests/test_lock_mutations.py asserts the same (and more mutants) in pytest.

    PYTHONPATH=. python scripts/lock_removal_check.py postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from runner.migrate import apply_functions, migrate
from tests.pgserver import with_database

LOCK_ORDER = "payments_private.lock_order(text,text)"
LOCKED_READ = "\n       FOR UPDATE;"
WINDOW = "    PERFORM pg_sleep(0.05);  -- widens the read-to-write window\n    RETURN o;\n"


def lock_order_copy(db: psycopg.Connection, *, keep_lock: bool) -> str:
    """payments_private.lock_order as it is, with a pause before it returns and,
    unless keep_lock, without its FOR UPDATE."""
    text = db.execute("SELECT pg_get_functiondef(%s::regprocedure)", (LOCK_ORDER,)).fetchone()[0]
    if text.count(LOCKED_READ) != 1 or text.count("    RETURN o;\n") != 1:
        raise SystemExit(f"{LOCK_ORDER} no longer looks as expected; update this script:\n{text}")
    text = text.replace("    RETURN o;\n", WINDOW)
    return text if keep_lock else text.replace(LOCKED_READ, ";")


def race(url: str, callers: int = 50) -> dict:
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("TRUNCATE payments.tickets, payments.ticket_order_items, payments.product_order_items,"
                   " payments.gateway_transactions, payments.order_reviews, payments.webhook_logs,"
                   " payments.runs, payments.orders, payments.ticket_slots, payments.product_variants"
                   " RESTART IDENTITY CASCADE")
        db.execute("SELECT payments.create_ticket_slot('A', 100)")
        db.execute("SELECT payments.create_product_variant('V', 100)")
        db.execute("SELECT payments.create_ticket_order('RACE-1', %s, %s, 300000)",
                   (Jsonb([{"slot": "A", "quantity": 3}]), datetime.now(UTC) + timedelta(hours=1)))
        db.execute("SELECT payments.create_product_order('RACE-2', %s, %s, 300000)",
                   (Jsonb([{"sku": "V", "quantity": 1}]), datetime.now(UTC) + timedelta(hours=1)))
        conns = [psycopg.connect(url, autocommit=True) for _ in range(callers)]
        barrier = threading.Barrier(callers)

        def settle(i: int) -> str:
            barrier.wait()
            try:
                row = conns[i].execute("SELECT payments.apply_gateway_status(%s, 'settlement', NULL,"
                                       " '300000.00', 'tx', '200', 'webhook', NULL)",
                                       ("RACE-1" if i % 2 == 0 else "RACE-2",)).fetchone()
                return row[0]["decision"]
            except psycopg.Error as exc:
                return f"error {exc.sqlstate}"

        with ThreadPoolExecutor(callers) as pool:
            outcomes = Counter(pool.map(settle, range(callers)))
        for c in conns:
            c.close()
        tickets = db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0]
        reserved, sold = db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone()
        paid = db.execute("SELECT count(*) FROM payments.webhook_logs WHERE outcome = 'paid'"
                          " AND order_number = 'RACE-1'").fetchone()[0]
        product_paid = db.execute("SELECT count(*) FROM payments.webhook_logs WHERE outcome = 'paid'"
                                  " AND order_number = 'RACE-2'").fetchone()[0]
        codes = db.execute("SELECT count(*) FROM payments.webhook_logs WHERE order_number = 'RACE-2'"
                           " AND detail #>> '{effects,0,pickup_code_issued}' = 'true'").fetchone()[0]
        violations = db.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0]
    return {"calls": dict(outcomes), "active_tickets": tickets, "slot_reserved": reserved,
            "slot_sold": sold, "ticket_order_decided_paid": paid, "product_order_decided_paid": product_paid,
            "pickup_codes_handed_out": codes, "invariant_violations": violations}


def main(admin_url: str) -> None:
    name = "payments_lock_removal_check"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin_url, name)
    migrate(url)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(lock_order_copy(db, keep_lock=False))
    print("without the order row lock (paused): ", race(url))
    with psycopg.connect(url, autocommit=True) as db:
        apply_functions(db)
        db.execute(lock_order_copy(db, keep_lock=True))
    print("with the order row lock (paused):    ", race(url))
    with psycopg.connect(url, autocommit=True) as db:
        apply_functions(db)
    print("with the real functions:             ", race(url))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres")
