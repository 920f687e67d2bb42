"""Concurrency proofs against a real PostgreSQL, many connections at once, each
scenario twice: straight to the server, and through PgBouncer in transaction
mode (where the shop's connections really are on Supabase), with the runner's
connection options (no prepared statements)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner import db as runner_db

SOURCES = ["webhook", "sync", "reconcile", "cron", "manual"]


@pytest.fixture(params=["direct", "pooled"])
def race_url(request, db_url: str) -> str:
    """The test database, straight or through the transaction pooler."""
    return db_url if request.param == "direct" else request.getfixturevalue("pooled_db_url")


def _future() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def _invariants(db: psycopg.Connection) -> list:
    return db.execute("SELECT * FROM payments.check_invariants()").fetchall()


def test_fifty_simultaneous_settlements_issue_tickets_once(db, race_url) -> None:
    db.execute("SELECT payments.create_ticket_slot('A', 10), payments.create_ticket_slot('B', 10)")
    db.execute(
        "SELECT payments.create_ticket_order('RACE-1', %s, %s, 250000)",
        (Jsonb([{"slot": "A", "quantity": 3}, {"slot": "B", "quantity": 2}]), _future()),
    )
    callers = 50
    barrier = threading.Barrier(callers)
    conns = [runner_db.connect(race_url, autocommit=True) for _ in range(callers)]

    def settle(i: int) -> tuple[str, str]:
        source = SOURCES[i % len(SOURCES)]
        barrier.wait()
        row = conns[i].execute(
            "SELECT payments.apply_gateway_status('RACE-1', 'settlement', 'accept', '250000.00',"
            " 'tx-race', '200', %s, %s)",
            (source, Jsonb({"caller": i})),
        ).fetchone()
        return source, row[0]["decision"]

    try:
        with ThreadPoolExecutor(max_workers=callers) as pool:
            calls = list(pool.map(settle, range(callers)))
    finally:
        for conn in conns:
            conn.close()

    decisions = Counter(decision for _, decision in calls)
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
    # every call is logged, except a sync / reconcile answer that changed nothing
    # (that one is only counted in its run)
    unlogged = sum(1 for source, decision in calls if source in ("sync", "reconcile") and decision == "noop")
    assert logged == callers - unlogged
    assert db.execute("SELECT count(*) FROM payments.gateway_transactions").fetchone()[0] == 1
    assert _invariants(db) == []


def test_three_hundred_buyers_for_one_hundred_seats(db, race_url) -> None:
    db.execute("SELECT payments.create_ticket_slot('HALL', 100)")
    buyers, connections = 300, 32
    local = threading.local()
    opened: list[psycopg.Connection] = []
    lock = threading.Lock()
    start = threading.Barrier(connections)

    def connection() -> psycopg.Connection:
        if not hasattr(local, "conn"):
            local.conn = runner_db.connect(race_url, autocommit=True)
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


def test_multi_slot_orders_in_any_item_order_never_deadlock(db, race_url) -> None:
    """Items listed in random order still lock slots in id order: no 40P01."""
    codes = [f"S{i}" for i in range(6)]
    for code in codes:
        db.execute("SELECT payments.create_ticket_slot(%s, 60)", (code,))
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
            local.conn = runner_db.connect(race_url, autocommit=True)
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
def test_late_settlement_racing_expire_order_never_both(db, race_url, round_) -> None:
    """A pending order past its expiry, with a live attempt in the ledger. A
    late settlement webhook of that attempt races payments.expire_order(...,
    even_if_live => true) (what reconciliation does when Midtrans has nothing
    more to say): whoever wins, the order ends paid with exactly its tickets
    and the capacity counted once."""
    db.execute("SELECT payments.create_ticket_slot('EVE', 5)")
    db.execute("SELECT payments.create_ticket_order('LATE-1', %s, %s, 100000)",
               (Jsonb([{"slot": "EVE", "quantity": 2}]), _future()))
    pending = db.execute(
        "SELECT payments.apply_gateway_status('LATE-1', 'pending', NULL, '100000.00',"
        " 'tx-late', '201', 'webhook', '{}')").fetchone()[0]
    assert pending["new_status"] == "pending"
    db.execute("UPDATE payments.orders SET expires_at = now() - interval '1 hour'"
               " WHERE order_number = 'LATE-1'")
    barrier = threading.Barrier(2)
    results: dict[str, dict] = {}

    def webhook() -> None:
        with runner_db.connect(race_url, autocommit=True) as conn:
            barrier.wait()
            results["webhook"] = conn.execute(
                "SELECT payments.apply_gateway_status('LATE-1', 'settlement', NULL, '100000.00',"
                " 'tx-late', '200', 'webhook', '{}')").fetchone()[0]

    def expire() -> None:
        with runner_db.connect(race_url, autocommit=True) as conn:
            barrier.wait()
            results["expire"] = conn.execute(
                "SELECT payments.expire_order('LATE-1', source => 'reconcile',"
                " expiry_grace => interval '15 minutes', even_if_live => true)"
            ).fetchone()[0]

    threads = [threading.Thread(target=webhook), threading.Thread(target=expire)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    webhook_result, expire_result = results["webhook"], results["expire"]
    expire_won = webhook_result["decision"] == "late_payment"
    assert webhook_result["decision"] in ("paid", "late_payment"), webhook_result
    assert expire_result["decision"] == ("released" if expire_won else "not_closed"), expire_result
    assert db.execute(
        "SELECT status, needs_review, capacity_released_at IS NULL, expired_locally_at IS NOT NULL"
        "  FROM payments.orders").fetchone() == ("paid", False, True, expire_won)
    assert db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 2)
    assert db.execute(
        "SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0] == 2
    reacquired = webhook_result["effects"][0]["reacquired"]
    assert reacquired == expire_won, "a re-acquire happens exactly when the expiry won"
    assert db.execute("SELECT stage FROM payments.gateway_transactions").fetchall() == [(22,)]
    assert _invariants(db) == []


@pytest.mark.parametrize("round_", range(10))
def test_deny_racing_a_settlement_of_another_attempt_never_releases(db, race_url, round_) -> None:
    """A deny no longer releases a pending order: the payment window stays
    open. The deny of a first attempt and the settlement of a second one
    race: in either order the settlement is an ordinary payment (never a late
    one), the capacity is never handed back, the tickets are issued once."""
    db.execute("SELECT payments.create_ticket_slot('DNY', 2)")
    db.execute("SELECT payments.create_ticket_order('DENY-1', %s, %s, 100000)",
               (Jsonb([{"slot": "DNY", "quantity": 2}]), _future()))
    db.execute("SELECT payments.apply_gateway_status('DENY-1', 'pending', NULL, '100000.00', 'tx-first',"
               " '201', 'webhook', '{}')")
    barrier = threading.Barrier(2)
    results: dict[str, dict] = {}

    def deliver(name: str, status: str, tx: str, code: str) -> None:
        with runner_db.connect(race_url, autocommit=True) as conn:
            barrier.wait()
            results[name] = conn.execute(
                "SELECT payments.apply_gateway_status('DENY-1', %s, NULL, '100000.00', %s, %s, 'webhook',"
                " '{}')", (status, tx, code)).fetchone()[0]

    threads = [threading.Thread(target=deliver, args=("deny", "deny", "tx-first", "202")),
               threading.Thread(target=deliver, args=("settle", "settlement", "tx-second", "200"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results["settle"]["decision"] == "paid", results["settle"]
    assert results["deny"]["decision"] == "attempt_failed", results["deny"]
    assert db.execute("SELECT status, needs_review, capacity_released_at IS NULL FROM payments.orders"
                      ).fetchone() == ("paid", False, True)
    assert db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 2)
    assert db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0] == 2
    assert db.execute("SELECT transaction_id, stage FROM payments.gateway_transactions ORDER BY 1"
                      ).fetchall() == [("tx-first", 30), ("tx-second", 22)]
    assert _invariants(db) == []


def _reconcile(conn: psycopg.Connection, batch_size: int, source: str = "reconcile") -> dict:
    """One batch of CALL payments.reconcile_local: its INOUT totals."""
    return conn.execute("CALL payments.reconcile_local(%s, %s, NULL, NULL)",
                        (batch_size, source)).fetchone()[0]


def test_concurrent_reconcile_local_calls_repair_each_order_once(db, race_url) -> None:
    """reconcile_local itself (no runner lock): candidates are taken FOR UPDATE
    SKIP LOCKED, so parallel callers split the work and never repair twice. The
    repairs: paid orders (their payment is in the ledger) missing their
    tickets, orders closed locally still holding capacity, and orders marked
    paid by foreign code with no payment anywhere (corrected, never fulfilled)."""
    db.execute("SELECT payments.create_ticket_slot('R', 500)")
    for i in range(220):
        db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 1)",
                   (f"REP-{i}", Jsonb([{"slot": "R", "quantity": 1}]), _future()))
    # 100 paid with a settlement in the ledger, 100 closed locally, 20 "paid" with no payment
    db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
               " stage, gross_amount, seen_paid)"
               " SELECT id, 'tx-' || id, 'settlement', 22, gross_amount, true FROM payments.orders"
               "  WHERE id <= 200 AND id % 2 = 0")
    db.execute("UPDATE payments.orders SET status = 'paid' WHERE id <= 200 AND id % 2 = 0")
    db.execute("UPDATE payments.orders SET status = 'expired', expired_locally_at = now()"
               " WHERE id <= 200 AND id % 2 = 1")
    db.execute("UPDATE payments.orders SET status = 'paid' WHERE id > 200")
    assert db.execute("SELECT count(*) FROM payments.orders WHERE repair IS NOT NULL").fetchone()[0] == 220
    callers = 4
    barrier = threading.Barrier(callers)

    def run(_: int) -> int:
        with runner_db.connect(race_url, autocommit=True) as conn:
            barrier.wait()
            total = 0
            while True:
                batch = _reconcile(conn, 10)
                assert batch["errors"] == 0, batch
                total += batch["repaired"] + batch["corrected"]
                if batch["mismatches_found"] == 0:
                    return total

    with ThreadPoolExecutor(max_workers=callers) as pool:
        repaired = sum(pool.map(run, range(callers)))
    assert repaired == 220, "200 repaired and 20 corrected, each once"
    per_order = db.execute(
        "SELECT count(*) FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\\_%'"
        " AND event_type <> 'reconcile_run' GROUP BY order_number").fetchall()
    assert len(per_order) == 220 and {n for (n,) in per_order} == {1}
    outcomes = dict(db.execute(
        "SELECT outcome, count(*) FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\\_%'"
        " AND event_type <> 'reconcile_run' GROUP BY outcome").fetchall())
    assert outcomes == {"repaired": 200, "corrected": 20}
    assert db.execute("SELECT status, count(*) FROM payments.orders GROUP BY status ORDER BY status"
                      ).fetchall() == [("expired", 100), ("paid", 100), ("pending", 20)]
    assert db.execute(
        "SELECT count(*) FROM payments.tickets t JOIN payments.ticket_order_items i ON i.id = t.order_item_id"
        " WHERE i.order_id > 200").fetchone()[0] == 0, "a status no payment supports is never fulfilled"
    assert db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (20, 100)
    assert db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0] == 100
    assert _invariants(db) == []


def _race(race_url: str, calls: list[tuple[str, tuple]]) -> Counter:
    """Every call on its own connection, all released at once; outcome 'ok' or the SQLSTATE."""
    barrier = threading.Barrier(len(calls))
    conns = [runner_db.connect(race_url, autocommit=True) for _ in calls]

    def call(i: int) -> str:
        query, params = calls[i]
        barrier.wait()
        try:
            conns[i].execute(query, params)
            return "ok"
        except psycopg.Error as exc:
            return exc.sqlstate or "?"

    try:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return Counter(pool.map(call, range(len(calls))))
    finally:
        for conn in conns:
            conn.close()


def test_concurrent_capacity_and_stock_decreases_never_go_below_what_orders_hold(db, race_url) -> None:
    """20 operators at once each take one seat and one shirt away from a slot
    of 10 (4 reserved) and a variant of 10 (4 reserved): each decrease alone
    fits, together they do not. The row lock makes them queue; exactly 6 of
    each pass, the rest get PM019 (never the CHECK's 23514), and the log has
    one row per decrease that passed."""
    db.execute("SELECT payments.create_ticket_slot('CUT', 10), payments.create_product_variant('CUT-V', 10)")
    db.execute("SELECT payments.create_ticket_order('CUT-T', %s, %s, 1)",
               (Jsonb([{"slot": "CUT", "quantity": 4}]), _future()))
    db.execute("SELECT payments.create_product_order('CUT-P', %s, %s, 1)",
               (Jsonb([{"sku": "CUT-V", "quantity": 4}]), _future()))
    outcomes = _race(race_url, [("SELECT payments.change_capacity('CUT', -1, %s)", (f"op {i}",))
                                for i in range(20)]
                     + [("SELECT payments.change_stock('CUT-V', -1, %s)", (f"op {i}",)) for i in range(20)])
    assert outcomes == {"ok": 12, "PM019": 28}, outcomes
    assert db.execute("SELECT capacity, reserved, sold FROM payments.ticket_slots").fetchone() == (4, 4, 0)
    assert db.execute("SELECT stock, reserved_stock, sold FROM payments.product_variants"
                      ).fetchone() == (4, 4, 0)
    assert db.execute("SELECT kind, count(*), sum(delta), min(after) FROM payments.catalog_changes"
                      " WHERE kind LIKE '%changed' GROUP BY kind ORDER BY kind").fetchall() == [
        ("capacity_changed", 6, -6, 4), ("stock_changed", 6, -6, 4)]
    assert _invariants(db) == []


def test_capacity_decreases_racing_buyers_never_oversell(db, race_url) -> None:
    """30 buyers (one seat each) and 30 operators (one seat less each) at once
    on a slot of 40: 60 seats asked of 40. Whatever the interleaving, seats
    held never exceed capacity, every refusal is PM003 or PM019, and each
    successful call is counted exactly once (capacity = 40 - decreases,
    reserved = orders). Once anyone was refused the slot is exactly full."""
    db.execute("SELECT payments.create_ticket_slot('RACE-CAP', 40)")
    calls = []
    for i in range(30):
        calls.append(("SELECT payments.create_ticket_order(%s, %s, %s, 1)",
                      (f"RC-{i}", Jsonb([{"slot": "RACE-CAP", "quantity": 1}]), _future())))
        calls.append(("SELECT payments.change_capacity('RACE-CAP', -1)", ()))
    outcomes = _race(race_url, calls)
    assert set(outcomes) <= {"ok", "PM003", "PM019"}, outcomes
    capacity, reserved, sold = db.execute(
        "SELECT capacity, reserved, sold FROM payments.ticket_slots").fetchone()
    orders = db.execute("SELECT count(*) FROM payments.orders").fetchone()[0]
    decreases = db.execute("SELECT count(*) FROM payments.catalog_changes"
                           " WHERE kind = 'capacity_changed'").fetchone()[0]
    assert orders + decreases == outcomes["ok"]
    assert reserved == orders and sold == 0 and capacity == 40 - decreases
    assert reserved + sold <= capacity
    assert outcomes["PM003"] + outcomes["PM019"] == 60 - outcomes["ok"] > 0
    assert reserved == capacity, "a refusal happened, so the slot ended exactly full"
    assert _invariants(db) == []
