"""Mutation checks for the locks of the money core.

The issue requires that "removing any FOR UPDATE on the side-effect paths, or
letting a stale event write the ledger, fails at least one test". For each
mutant, inside the test's own database (superuser):

1. the concurrency scenario passes on the real functions;
2. where a race window has to be widened to make the scenario deterministic,
   it also passes with only that instrumentation (pg_sleep in a copy of a
   function, never in the real files), so the sleep alone breaks nothing;
3. with the mutant (instrumentation + one textual edit of the function's
   pg_get_functiondef) the scenario FAILS: the mutant is detected;
4. the real definitions are restored (checked against pg_get_functiondef).

A table "mutant -> detected by" is written at the end of the module.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

LOCK_ORDER = "payments_private.lock_order(text,text)"
LOCK_SLOTS = "payments_private.lock_slots(bigint)"
LOCK_VARIANTS = "payments_private.lock_variants(bigint)"
APPLY_TICKET_PAYMENT = "payments_private.apply_ticket_payment(payments.orders)"
APPLY_PRODUCT_PAYMENT = "payments_private.apply_product_payment(payments.orders)"
RECONCILE_STEP = "payments.reconcile_step(bigint[],text,bigint)"
RECONCILE_LOCAL = "payments.reconcile_local(integer,text,bigint,jsonb)"
APPLY_GATEWAY_STATUS = ("payments.apply_gateway_status(text,text,text,numeric,text,text,text,jsonb,bigint,"
                        "text,boolean)")
CREATE_TICKET_ORDER = "payments.create_ticket_order(text,jsonb,timestamptz,numeric,text)"

DATA_TABLES = ["tickets", "ticket_order_items", "product_order_items", "gateway_transactions",
               "order_reviews", "webhook_logs", "runs", "orders", "ticket_slots", "product_variants"]


def _future() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


# -- replacing functions ------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """Replace `old` (which must occur exactly `count` times) in the
    definition of the function `signature`."""

    signature: str
    old: str
    new: str
    count: int = 1


def functiondef(db: psycopg.Connection, signature: str) -> str:
    return db.execute("SELECT pg_get_functiondef(%s::regprocedure)", (signature,)).fetchone()[0]


@contextmanager
def patched(db: psycopg.Connection, edits: list[Edit]) -> Iterator[None]:
    """The functions with the edits applied (in order, per function), then the
    real definitions back."""
    originals: dict[str, str] = {}
    texts: dict[str, str] = {}
    for edit in edits:
        if edit.signature not in texts:
            originals[edit.signature] = texts[edit.signature] = functiondef(db, edit.signature)
        found = texts[edit.signature].count(edit.old)
        assert found == edit.count, f"edit of {edit.signature} matches {found} times: {edit.old!r}"
        texts[edit.signature] = texts[edit.signature].replace(edit.old, edit.new)
    try:
        for text in texts.values():
            db.execute(text)
        yield
    finally:
        for text in originals.values():
            db.execute(text)
        for signature, text in originals.items():
            assert functiondef(db, signature) == text, f"{signature} was not restored"


# -- scenario helpers ---------------------------------------------------------

class Checks:
    """The assertions of a scenario, collected instead of raised: the mutant
    runs must report which ones failed."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def that(self, label: str, ok: bool, detail: object = "") -> None:
        if not ok:
            text = str(dict(detail) if isinstance(detail, Counter) else detail)
            text = text if len(text) <= 120 else text[:117] + "..."
            self.failed.append(f"{label} [{text}]" if text else label)


def reset(db: psycopg.Connection) -> None:
    db.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
        sql.SQL(", ").join(sql.Identifier("payments", t) for t in DATA_TABLES)))


def run_together(db_url: str, calls: list[Callable[[psycopg.Connection], object]]) -> list[object]:
    """Each call on its own connection, all released by one barrier; a
    database error comes back as 'error:<sqlstate>'."""
    conns = [psycopg.connect(db_url, autocommit=True) for _ in calls]
    barrier = threading.Barrier(len(calls))

    def go(i: int) -> object:
        barrier.wait()
        try:
            return calls[i](conns[i])
        except psycopg.Error as exc:
            return f"error:{exc.sqlstate}"

    try:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(go, range(len(calls))))
    finally:
        for conn in conns:
            conn.close()


def errors_of(results: list[object]) -> Counter:
    flat: list[object] = []
    for r in results:
        flat.extend(r if isinstance(r, list) else [r])
    return Counter(r for r in flat if isinstance(r, str) and r.startswith("error:"))


def invariants(db: psycopg.Connection) -> list:
    return db.execute("SELECT invariant, subject FROM payments.check_invariants()").fetchall()


def gateway(conn: psycopg.Connection, order: str, status: str, tx: str, source: str = "webhook") -> dict:
    code = {"pending": "201"}.get(status, "200")
    return conn.execute(
        "SELECT payments.apply_gateway_status(o.order_number, %s, NULL, o.gross_amount, %s, %s, %s, '{}')"
        "  FROM payments.orders AS o WHERE o.order_number = %s",
        (status, tx, code, source, order)).fetchone()[0]


def reconcile_batches(conn: psycopg.Connection, batch_size: int, deadline: float = 60) -> list[dict]:
    """CALL reconcile_local until a batch finds nothing."""
    batches = []
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        totals = conn.execute("CALL payments.reconcile_local(%s, 'reconcile', NULL, NULL)",
                              (batch_size,)).fetchone()[0]
        batches.append(totals)
        if totals["mismatches_found"] == 0:
            break
    return batches


def paid_orders_missing_tickets(db: psycopg.Connection, slot: str, count: int, prefix: str) -> None:
    """Orders whose settlement is in the ledger and whose status says paid,
    but whose tickets were never issued (a repair for reconciliation)."""
    db.execute("SELECT payments.create_ticket_order(%s || g, %s, %s, 1000) FROM generate_series(1, %s) AS g",
               (prefix, Jsonb([{"slot": slot, "quantity": 1}]), _future(), count))
    db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
               " stage, gross_amount, seen_paid)"
               " SELECT id, 'tx-' || order_number, 'settlement', 22, gross_amount, true FROM payments.orders"
               "  WHERE order_number LIKE %s || '%%'", (prefix,))
    db.execute("UPDATE payments.orders SET status = 'paid' WHERE order_number LIKE %s || '%%'", (prefix,))


# -- scenarios (each returns the labels of the checks that failed) ------------

def scenario_simultaneous_settlements(db_url: str) -> list[str]:
    """8 identical settlements of one pending order at once: one decides paid,
    the tickets are issued and the capacity finalized once."""
    check = Checks()
    with psycopg.connect(db_url, autocommit=True) as db:
        reset(db)
        db.execute("SELECT payments.create_ticket_slot('A', 10)")
        db.execute("SELECT payments.create_ticket_order('RACE-1', %s, %s, 300000)",
                   (Jsonb([{"slot": "A", "quantity": 3}]), _future()))
        results = run_together(db_url,
                               [lambda c: gateway(c, "RACE-1", "settlement", "tx-race")["decision"]] * 8)
        check.that("no errors", not errors_of(results), errors_of(results))
        check.that("exactly one caller decides paid", Counter(results) == {"paid": 1, "noop": 7},
                   dict(Counter(results)))
        active = db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0]
        check.that("tickets issued once", active == 3, active)
        slot = db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone()
        check.that("capacity finalized once", slot == (0, 3), slot)
        check.that("check_invariants() empty", invariants(db) == [], invariants(db))
    return check.failed


def scenario_late_payments(db_url: str, kind: str) -> list[str]:
    """4 orders of 2 were released (expired); 5 are free. Their late payments
    arrive at once: 2 re-acquire, 2 are short (paid_after_release); nothing is
    oversold and nobody errors."""
    check = Checks()
    with psycopg.connect(db_url, autocommit=True) as db:
        reset(db)
        if kind == "ticket":
            db.execute("SELECT payments.create_ticket_slot('L', 5)")
            create, items = "create_ticket_order", Jsonb([{"slot": "L", "quantity": 2}])
        else:
            db.execute("SELECT payments.create_product_variant('L', 5)")
            create, items = "create_product_order", Jsonb([{"sku": "L", "quantity": 2}])
        for pair in ((1, 2), (3, 4)):
            for k in pair:
                db.execute(sql.SQL("SELECT payments.{}(%s, %s, %s, 2000)").format(sql.Identifier(create)),
                           (f"LATE-{k}", items, _future()))
            for k in pair:
                db.execute("SELECT payments.expire_order(%s)", (f"LATE-{k}",))
        results = run_together(db_url, [
            (lambda c, k=k: gateway(c, f"LATE-{k}", "settlement", f"tx-late-{k}")["decision"])
            for k in range(1, 5)])
        check.that("no errors", not errors_of(results), errors_of(results))
        check.that("2 late payments re-acquire, 2 are flagged short",
                   Counter(results) == {"late_payment": 2, "late_payment_review": 2}, dict(Counter(results)))
        if kind == "ticket":
            counts = db.execute("SELECT capacity, reserved, sold FROM payments.ticket_slots").fetchone()
            out = db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0]
            check.that("tickets of exactly the 2 re-acquired orders", out == 4, out)
        else:
            counts = db.execute("SELECT stock, reserved_stock, sold FROM payments.product_variants"
                                ).fetchone()
            out = db.execute("SELECT count(*) FROM payments.orders WHERE pickup_code IS NOT NULL"
                             ).fetchone()[0]
            check.that("pickup codes of exactly the 2 re-acquired orders", out == 2, out)
        check.that("nothing oversold", counts[1] + counts[2] <= counts[0] and counts[2] == 4, counts)
        short = db.execute("SELECT count(*) FROM payments.order_reviews WHERE reason = 'paid_after_release'"
                           " AND resolved_at IS NULL").fetchone()[0]
        check.that("2 paid_after_release reviews", short == 2, short)
        check.that("check_invariants() empty", invariants(db) == [], invariants(db))
    return check.failed


def scenario_two_reconcilers(db_url: str) -> list[str]:
    """Two reconcile_local loops at once over 24 paid orders missing their
    tickets: every order repaired exactly once."""
    check = Checks()
    with psycopg.connect(db_url, autocommit=True) as db:
        reset(db)
        db.execute("SELECT payments.create_ticket_slot('R', 1000)")
        paid_orders_missing_tickets(db, "R", 24, "REP-")
        results = run_together(db_url, [lambda c: reconcile_batches(c, 4)] * 2)
        check.that("no errors", not errors_of(results), errors_of(results))
        repaired = sum(b["repaired"] for r in results if isinstance(r, list) for b in r)
        check.that("24 repairs in all", repaired == 24, repaired)
        per_order = Counter(n for (n,) in db.execute(
            "SELECT order_number FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\\_%'"
            " AND event_type <> 'reconcile_run'").fetchall())
        check.that("every order repaired exactly once",
                   len(per_order) == 24 and set(per_order.values()) == {1},
                   {n: c for n, c in per_order.items() if c != 1})
        failed = db.execute("SELECT count(*) FROM payments.webhook_logs WHERE event_type = 'reconcile_error'"
                            ).fetchone()[0]
        check.that("no reconcile_error", failed == 0, failed)
        out = db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0]
        check.that("24 tickets", out == 24, out)
        check.that("check_invariants() empty", invariants(db) == [], invariants(db))
    return check.failed


def scenario_stale_redelivery(db_url: str) -> list[str]:
    """8 orders; per order 2 settlements and 3 pending notifications of one
    transaction, all delivered at once in random order; then a late burst of
    stale pending notifications. The ledger keeps settlement, each order is
    paid once with its tickets."""
    check = Checks()
    rng = random.Random(11)
    with psycopg.connect(db_url, autocommit=True) as db:
        reset(db)
        db.execute("SELECT payments.create_ticket_slot('S', 100)")
        orders = [f"STALE-{k}" for k in range(8)]
        for number in orders:
            db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 2000)",
                       (number, Jsonb([{"slot": "S", "quantity": 2}]), _future()))
        events = [(n, s) for n in orders
                  for s in ("settlement", "settlement", "pending", "pending", "pending")]
        rng.shuffle(events)
        lanes = [events[k::8] for k in range(8)]
        burst = run_together(db_url, [
            (lambda c, lane=lane: [gateway(c, n, s, f"tx-{n}")["decision"] for n, s in lane])
            for lane in lanes])
        check.that("no errors", not errors_of(burst), errors_of(burst))
        paid = Counter(d for lane in burst if isinstance(lane, list) for d in lane)["paid"]
        check.that("each order decided paid exactly once", paid == len(orders), paid)
        late = run_together(db_url, [(lambda c, n=n: gateway(c, n, "pending", f"tx-{n}")["decision"])
                                     for n in orders])
        check.that("late pending notifications are stale_ignored", set(late) == {"stale_ignored"},
                   dict(Counter(late)))
        stages = db.execute("SELECT stage, count(*) FROM payments.gateway_transactions GROUP BY stage"
                            ).fetchall()
        check.that("the ledger keeps the settlement", stages == [(22, len(orders))], stages)
        statuses = db.execute("SELECT status, count(*) FROM payments.orders GROUP BY status").fetchall()
        check.that("every order paid", statuses == [("paid", len(orders))], statuses)
        out = db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0]
        check.that("tickets issued once each", out == 2 * len(orders), out)
        slot = db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone()
        check.that("capacity finalized once", slot == (0, 2 * len(orders)), slot)
        check.that("check_invariants() empty", invariants(db) == [], invariants(db))
    return check.failed


def scenario_buyers(db_url: str) -> list[str]:
    """30 buyers at once for 10 seats: 10 orders, 20 PM003, nothing oversold."""
    check = Checks()
    with psycopg.connect(db_url, autocommit=True) as db:
        reset(db)
        db.execute("SELECT payments.create_ticket_slot('HALL', 10)")

        def buy(conn: psycopg.Connection, k: int) -> str:
            conn.execute("SELECT payments.create_ticket_order(%s, %s, %s, 500)",
                         (f"BUY-{k}", Jsonb([{"slot": "HALL", "quantity": 1}]), _future()))
            return "ok"

        results = run_together(db_url, [(lambda c, k=k: buy(c, k)) for k in range(30)])
        outcomes = Counter("PM003" if r == "error:PM003" else r for r in results)
        check.that("10 orders, 20 refused with PM003", outcomes == {"ok": 10, "PM003": 20}, dict(outcomes))
        slot = db.execute("SELECT capacity, reserved, sold FROM payments.ticket_slots").fetchone()
        check.that("reserved = 10 <= capacity", slot == (10, 10, 0), slot)
        check.that("check_invariants() empty", invariants(db) == [], invariants(db))
    return check.failed


def scenario_multi_slot_no_deadlock(db_url: str) -> list[str]:
    """3 creators and 3 settlers at once, every order on the same 3 slots
    (items in random order): no 40P01."""
    check = Checks()
    rng = random.Random(5)
    codes = ["G0", "G1", "G2"]

    def items() -> Jsonb:
        return Jsonb([{"slot": c, "quantity": 1} for c in rng.sample(codes, 3)])

    with psycopg.connect(db_url, autocommit=True) as db:
        reset(db)
        dbname = db.execute("SELECT current_database()").fetchone()[0]
        db.execute(sql.SQL("ALTER DATABASE {} SET deadlock_timeout = '100ms'").format(sql.Identifier(dbname)))
        for code in codes:
            db.execute("SELECT payments.create_ticket_slot(%s, 10000)", (code,))
        pending = [f"PAY-{k}" for k in range(18)]
        for number in pending:
            db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 3000)", (number, items(), _future()))
        plans = [[(f"NEW-{c}-{i}", items()) for i in range(6)] for c in range(3)]

        def creator(conn: psycopg.Connection, plan: list) -> list[object]:
            done: list[object] = []
            for number, its in plan:
                try:
                    conn.execute("SELECT payments.create_ticket_order(%s, %s, %s, 3000)",
                                 (number, its, _future()))
                    done.append("ok")
                except psycopg.Error as exc:
                    done.append(f"error:{exc.sqlstate}")
            return done

        def settler(conn: psycopg.Connection, numbers: list[str]) -> list[object]:
            done: list[object] = []
            for number in numbers:
                try:
                    done.append(gateway(conn, number, "settlement", f"tx-{number}")["decision"])
                except psycopg.Error as exc:
                    done.append(f"error:{exc.sqlstate}")
            return done

        results = run_together(db_url, [(lambda c, p=p: creator(c, p)) for p in plans]
                               + [(lambda c, k=k: settler(c, pending[k::3])) for k in range(3)])
        errors = errors_of(results)
        check.that("no 40P01", errors["error:40P01"] == 0, dict(errors))
        check.that("no errors", not errors, dict(errors))
        check.that("check_invariants() empty", invariants(db) == [], invariants(db))
    return check.failed


def scenario_settlement_during_batch(db_url: str) -> list[str]:
    """A reconcile batch of 600 repairs on one slot; a settlement on the same
    slot, fired while the batch runs, commits before the batch is over."""
    check = Checks()
    batch_size = 600
    with psycopg.connect(db_url, autocommit=True) as db:
        reset(db)
        db.execute("SELECT payments.create_ticket_slot('HOT', 100000)")
        paid_orders_missing_tickets(db, "HOT", batch_size, "HOT-")
        db.execute("SELECT payments.create_ticket_order('BUYER', %s, %s, 2000)",
                   (Jsonb([{"slot": "HOT", "quantity": 2}]), _future()))
        result: dict[str, object] = {}

        def batch() -> None:
            with psycopg.connect(db_url, autocommit=True) as conn:
                result["totals"] = conn.execute("CALL payments.reconcile_local(1000, 'reconcile', NULL, NULL)"
                                                ).fetchone()[0]

        thread = threading.Thread(target=batch)
        thread.start()
        deadline, active_since = time.monotonic() + 30, None
        # the batch is under way: 30 repairs committed, or (a batch that commits
        # nothing until its end) its CALL active for 0.15 s
        while True:
            assert time.monotonic() < deadline and thread.is_alive(), "the batch never started"
            active, repaired = db.execute(
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                "          AND state = 'active' AND query LIKE 'CALL payments.reconcile_local%'),"
                "       (SELECT count(*) FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\\_fix%')"
            ).fetchone()
            if active and active_since is None:
                active_since = time.monotonic()
            if repaired >= 30 or (active_since is not None and time.monotonic() - active_since > 0.15):
                break
            time.sleep(0.005)
        check.that("the batch was still running when the settlement was sent", thread.is_alive())
        with psycopg.connect(db_url, autocommit=True) as conn:
            started = time.perf_counter()
            decision = gateway(conn, "BUYER", "settlement", "tx-buyer")["decision"]
            latency = time.perf_counter() - started
            after_commit = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        thread.join(timeout=60)
        check.that("settlement paid", decision == "paid", decision)
        check.that(f"the batch repaired {batch_size}", result.get("totals", {}).get("repaired") == batch_size,
                   result)
        run_logged_at = db.execute("SELECT max(created_at) FROM payments.webhook_logs"
                                   " WHERE event_type = 'reconcile_run'").fetchone()[0]
        check.that("the settlement committed before the batch's reconcile_run row",
                   run_logged_at is not None and after_commit < run_logged_at,
                   f"settlement latency {latency * 1000:.0f} ms")
        later = db.execute("SELECT count(*) FROM payments.webhook_logs"
                           " WHERE event_type LIKE 'reconcile\\_fix%%' AND created_at > %s",
                           (after_commit,)).fetchone()[0]
        check.that("repairs were committed after the settlement", later > 0, later)
        check.that("check_invariants() empty", invariants(db) == [], invariants(db))
    return check.failed


# -- the mutants --------------------------------------------------------------

def sleep_before(signature: str, anchor: str, seconds: float) -> Edit:
    return Edit(signature, anchor, f"    PERFORM pg_sleep({seconds});\n{anchor}")


@dataclass
class Mutant:
    key: str
    description: str
    scenario: Callable[[str], list[str]]
    mutate: list[Edit]
    instrument: list[Edit] = field(default_factory=list)


RECONCILE_PICKED = "    v_log_id := payments_private.next_log_id();\n"
SLOT_UPDATE = "        UPDATE payments.ticket_slots AS s\n"

MUTANTS = [
    Mutant("a", "lock_order without FOR UPDATE", scenario_simultaneous_settlements,
           mutate=[Edit(LOCK_ORDER, "\n       FOR UPDATE;", ";")],
           instrument=[sleep_before(LOCK_ORDER, "    RETURN o;\n", 0.1)]),
    Mutant("b", "lock_slots without FOR UPDATE", lambda url: scenario_late_payments(url, "ticket"),
           mutate=[Edit(LOCK_SLOTS, "\n               FOR UPDATE OF s) AS locked;", ") AS locked;")],
           instrument=[sleep_before(APPLY_TICKET_PAYMENT, "    -- finalize the missing quantity", 0.2)]),
    Mutant("c", "lock_variants without FOR UPDATE", lambda url: scenario_late_payments(url, "product"),
           mutate=[Edit(LOCK_VARIANTS, "\n       FOR UPDATE OF v;", ";")],
           instrument=[sleep_before(APPLY_PRODUCT_PAYMENT, "        UPDATE payments.product_variants AS v\n"
                                    "           SET reserved_stock = v.reserved_stock - CASE", 0.2)]),
    Mutant("d", "reconcile_step without FOR UPDATE SKIP LOCKED (no row lock)", scenario_two_reconcilers,
           mutate=[Edit(RECONCILE_STEP, "\n       FOR UPDATE SKIP LOCKED;", ";")],
           instrument=[sleep_before(RECONCILE_STEP, RECONCILE_PICKED, 0.05)]),
    Mutant("e", "apply_gateway_status: a stale event rewrites the ledger row", scenario_stale_redelivery,
           mutate=[Edit(APPLY_GATEWAY_STATUS, "IF v_outcome IN ('new', 'advance') THEN",
                        "IF v_outcome IN ('new', 'advance', 'stale') THEN"),
                   Edit(APPLY_GATEWAY_STATUS, "v_write := v_outcome IN ('new', 'advance') OR",
                        "v_write := v_outcome IN ('new', 'advance', 'stale') OR")]),
    Mutant("f1", "create_ticket_order reserving without its capacity condition", scenario_buyers,
           mutate=[Edit(CREATE_TICKET_ORDER,
                        "\n           AND s.capacity - s.reserved - s.sold >= v_quantities[i];", ";")]),
    Mutant("f2", "create_ticket_order: capacity checked by a plain read, then reserved (no lock)",
           scenario_buyers,
           instrument=[sleep_before(CREATE_TICKET_ORDER, SLOT_UPDATE, 0.05)],
           mutate=[Edit(CREATE_TICKET_ORDER, "    PERFORM pg_sleep(0.05);\n" + SLOT_UPDATE,
                        "        SELECT s.capacity - s.reserved - s.sold INTO v_free"
                        " FROM payments.ticket_slots AS s WHERE s.id = v_slot_ids[i];\n"
                        "    PERFORM pg_sleep(0.05);\n        UPDATE payments.ticket_slots AS s\n"),
                   Edit(CREATE_TICKET_ORDER, "AND s.capacity - s.reserved - s.sold >= v_quantities[i];",
                        "AND v_free >= v_quantities[i];")]),
    Mutant("g", "lock_slots locking slots against id order", scenario_multi_slot_no_deadlock,
           # both: a pause after each slot lock, in lock_slots and in create_ticket_order
           instrument=[Edit(LOCK_SLOTS, "SELECT count(*) INTO v_locked",
                            "SELECT count(pg_sleep(0.01)::text) INTO v_locked"),
                       Edit(CREATE_TICKET_ORDER, "        IF NOT FOUND THEN\n            SELECT s.capacity",
                            "        PERFORM pg_sleep(0.01) WHERE FOUND;\n"
                            "        IF NOT FOUND THEN\n            SELECT s.capacity")],
           mutate=[Edit(LOCK_SLOTS, "ORDER BY s.id\n", "ORDER BY s.id DESC\n")]),
    Mutant("h", "reconcile_local holding its locks for the whole batch (no COMMIT per repair)",
           scenario_settlement_during_batch,
           mutate=[Edit(RECONCILE_LOCAL, "reconcile_local.source, v_run);\n        COMMIT;\n",
                        "reconcile_local.source, v_run);\n")]),
]


@pytest.fixture(scope="module")
def mutation_table(request) -> Iterator[dict[str, tuple[str, list[str]]]]:
    """Collects mutant -> failed checks; printed (past output capture) at the end."""
    table: dict[str, tuple[str, list[str]]] = {}
    yield table
    if not table:
        return
    lines = ["", "mutant | change | detected by (failed checks of the scenario)"]
    for key in sorted(table):
        description, failed = table[key]
        lines.append(f"{key:>6} | {description} | {'; '.join(failed) if failed else 'SURVIVED'}")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        print("\n".join(lines))


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.key for m in MUTANTS])
def test_mutant_is_detected(db, db_url, mutant: Mutant, mutation_table) -> None:
    real = mutant.scenario(db_url)
    assert real == [], f"the real functions fail the scenario: {real}"
    if mutant.instrument:
        with patched(db, mutant.instrument):
            widened = mutant.scenario(db_url)
        assert widened == [], f"the instrumentation alone fails the scenario: {widened}"
    with patched(db, mutant.instrument + mutant.mutate):
        detected = mutant.scenario(db_url)
    mutation_table[mutant.key] = (mutant.description, detected)
    print(f"\nmutant {mutant.key} ({mutant.description}): detected by {detected}")
    assert detected, f"mutant {mutant.key} ({mutant.description}) survived its scenario"
