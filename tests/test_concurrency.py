"""Concurrency proofs against a real PostgreSQL, many connections at once."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

SOURCES = ["webhook", "sync", "reconcile", "cron", "manual"]


def _future() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def _invariants(db: psycopg.Connection) -> list:
    return db.execute("SELECT * FROM payments.check_invariants()").fetchall()


def test_fifty_simultaneous_settlements_issue_tickets_once(db, db_url) -> None:
    db.execute("INSERT INTO payments.ticket_slots (code, capacity) VALUES ('A', 10), ('B', 10)")
    db.execute(
        "SELECT payments.create_ticket_order('RACE-1', %s, %s, 250000)",
        (Jsonb([{"slot": "A", "quantity": 3}, {"slot": "B", "quantity": 2}]), _future()),
    )
    callers = 50
    barrier = threading.Barrier(callers)
    conns = [psycopg.connect(db_url, autocommit=True) for _ in range(callers)]

    def settle(i: int) -> str:
        barrier.wait()
        row = conns[i].execute(
            "SELECT payments.apply_gateway_status('RACE-1', 'settlement', 'accept', '250000.00',"
            " 'tx-race', '200', %s, %s)",
            (SOURCES[i % len(SOURCES)], Jsonb({"caller": i})),
        ).fetchone()
        return row[0]["decision"]

    try:
        with ThreadPoolExecutor(max_workers=callers) as pool:
            decisions = Counter(pool.map(settle, range(callers)))
    finally:
        for conn in conns:
            conn.close()

    assert decisions == {"paid": 1, "noop": callers - 1}
    per_item = db.execute(
        "SELECT s.code, i.quantity, i.finalized_quantity,"
        "       (SELECT count(*) FROM payments.tickets t"
        "         WHERE t.order_item_id = i.id AND t.status = 'active') AS active"
        "  FROM payments.ticket_order_items i JOIN payments.ticket_slots s ON s.id = i.slot_id"
        " ORDER BY s.code").fetchall()
    assert per_item == [("A", 3, 3, 3), ("B", 2, 2, 2)]
    slots = db.execute("SELECT code, reserved, sold FROM payments.ticket_slots ORDER BY code").fetchall()
    assert slots == [("A", 0, 3), ("B", 0, 2)], "capacity finalized exactly once"
    logged = db.execute(
        "SELECT count(*) FROM payments.webhook_logs WHERE order_number = 'RACE-1'").fetchone()[0]
    assert logged == callers, "every call is logged, even the no-ops"
    assert _invariants(db) == []


def test_three_hundred_buyers_for_one_hundred_seats(db, db_url) -> None:
    db.execute("INSERT INTO payments.ticket_slots (code, capacity) VALUES ('HALL', 100)")
    buyers, connections = 300, 32
    local = threading.local()
    opened: list[psycopg.Connection] = []
    lock = threading.Lock()
    start = threading.Barrier(connections)

    def connection() -> psycopg.Connection:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(db_url, autocommit=True)
            with lock:
                opened.append(local.conn)
            start.wait()  # all 32 connections open before anyone buys
        return local.conn

    def buy(i: int) -> str:
        conn = connection()
        try:
            conn.execute(
                "SELECT payments.create_ticket_order(%s, %s, %s, 50000)",
                (f"BUY-{i}", Jsonb([{"slot": "HALL", "quantity": 1}]), _future()),
            )
            return "ok"
        except psycopg.Error as exc:
            return exc.sqlstate or "?"

    try:
        with ThreadPoolExecutor(max_workers=connections) as pool:
            outcomes = Counter(pool.map(buy, range(buyers)))
    finally:
        for conn in opened:
            conn.close()

    assert outcomes == {"ok": 100, "PM003": 200}, outcomes
    assert db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (100, 0)
    assert db.execute("SELECT count(*) FROM payments.orders").fetchone()[0] == 100
    assert _invariants(db) == []


def test_multi_slot_orders_in_any_item_order_never_deadlock(db, db_url) -> None:
    """Items listed in random order still lock slots in id order: no 40P01."""
    codes = [f"S{i}" for i in range(6)]
    for code in codes:
        db.execute("INSERT INTO payments.ticket_slots (code, capacity) VALUES (%s, 60)", (code,))
    rng = random.Random(7)
    orders = []
    for i in range(240):
        picked = rng.sample(codes, 3)
        orders.append((f"MULTI-{i}", [{"slot": c, "quantity": 1} for c in picked]))
    connections = 16
    local = threading.local()
    opened: list[psycopg.Connection] = []
    lock = threading.Lock()

    def place(order: tuple[str, list]) -> str:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(db_url, autocommit=True)
            with lock:
                opened.append(local.conn)
        try:
            local.conn.execute("SELECT payments.create_ticket_order(%s, %s, %s, 1)",
                               (order[0], Jsonb(order[1]), _future()))
            return "ok"
        except psycopg.Error as exc:
            return exc.sqlstate or "?"

    try:
        with ThreadPoolExecutor(max_workers=connections) as pool:
            outcomes = Counter(pool.map(place, orders))
    finally:
        for conn in opened:
            conn.close()

    assert "40P01" not in outcomes, outcomes
    assert set(outcomes) <= {"ok", "PM003"}, outcomes
    total_reserved = db.execute("SELECT sum(reserved) FROM payments.ticket_slots").fetchone()[0]
    assert total_reserved == 3 * outcomes["ok"]
    assert db.execute(
        "SELECT count(*) FROM payments.ticket_slots WHERE reserved > capacity").fetchone()[0] == 0
    assert _invariants(db) == []


@pytest.mark.parametrize("round_", range(20))
def test_webhook_paid_racing_reconcile_release_never_both(db, db_url, round_) -> None:
    """An order marked expired by foreign code still holds capacity. A late
    settlement webhook and reconcile_local race: whoever wins, the order ends
    paid with exactly its tickets and the capacity counted once."""
    db.execute("INSERT INTO payments.ticket_slots (code, capacity) VALUES ('EVE', 5)")
    db.execute("SELECT payments.create_ticket_order('LATE-1', %s, %s, 100000)",
               (Jsonb([{"slot": "EVE", "quantity": 2}]), _future()))
    db.execute("UPDATE payments.orders SET status = 'expired' WHERE order_number = 'LATE-1'")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def webhook() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            barrier.wait()
            results["webhook"] = conn.execute(
                "SELECT payments.apply_gateway_status('LATE-1', 'settlement', NULL, '100000.00',"
                " 'tx-late', '200', 'webhook', '{}')").fetchone()[0]

    def reconcile() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            barrier.wait()
            results["reconcile"] = conn.execute("SELECT payments.reconcile_local()").fetchone()[0]

    threads = [threading.Thread(target=webhook), threading.Thread(target=reconcile)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    webhook_result = results["webhook"]
    assert webhook_result["decision"] == "late_payment"
    assert db.execute(
        "SELECT status, needs_review, capacity_released_at IS NULL FROM payments.orders"
    ).fetchone() == ("paid", False, True)
    assert db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 2)
    assert db.execute(
        "SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0] == 2
    released = results["reconcile"]["reconcile_release_capacity"]
    reacquired = webhook_result["effects"][0]["reacquired"]
    assert released == (1 if reacquired else 0), "a re-acquire happens exactly when the release won"
    assert _invariants(db) == []


def test_concurrent_reconcile_local_calls_repair_each_order_once(db, db_url) -> None:
    """reconcile_local itself (no runner lock): candidates are taken FOR UPDATE
    SKIP LOCKED, so parallel callers split the work and never repair twice."""
    db.execute("INSERT INTO payments.ticket_slots (code, capacity) VALUES ('R', 500)")
    for i in range(200):
        db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 1)",
                   (f"REP-{i}", Jsonb([{"slot": "R", "quantity": 1}]), _future()))
    db.execute("UPDATE payments.orders SET status = CASE WHEN id % 2 = 0 THEN 'paid' ELSE 'expired' END")
    callers = 4
    barrier = threading.Barrier(callers)

    def run(_: int) -> int:
        with psycopg.connect(db_url, autocommit=True) as conn:
            barrier.wait()
            total = 0
            while True:
                batch = conn.execute("SELECT payments.reconcile_local(10)").fetchone()[0]
                total += batch["repaired"]
                if batch["mismatches_found"] == 0:
                    return total

    with ThreadPoolExecutor(max_workers=callers) as pool:
        repaired = sum(pool.map(run, range(callers)))
    assert repaired == 200
    per_order = db.execute(
        "SELECT count(*) FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\\_%'"
        " AND event_type <> 'reconcile_run' GROUP BY order_number").fetchall()
    assert len(per_order) == 200 and {n for (n,) in per_order} == {1}
    assert db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 100)
    assert _invariants(db) == []
