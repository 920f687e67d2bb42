"""Deadlock freedom by construction, against a real PostgreSQL.

The issue: reconcile_local used to lock slots in the order it met orders and
hold them for the whole batch, so it deadlocked with multi-slot
create_ticket_order, with multi-slot settlements and with a concurrent
reconcile_local from pg_cron (174-179 logged 40P01 per round). Now every
writer takes the order row first, then the order's slots in id order, and
reconciliation commits after each repair (payments.reconcile_local is a
procedure), so no two transactions can wait on each other in a cycle.

These tests run all of those writers at once on slots shared by many
multi-slot orders and require zero deadlocks: none raised to a caller, none
caught inside a reconcile step (logged as reconcile_error), none counted by
the server (pg_stat_database.deadlocks).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.types.json import Jsonb

SLOTS = [f"D{i}" for i in range(5)]


def _future() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def _invariants(db: psycopg.Connection) -> list:
    return db.execute("SELECT * FROM payments.check_invariants()").fetchall()


def _server_deadlocks(db: psycopg.Connection) -> int:
    db.execute("SELECT pg_stat_clear_snapshot()")
    return db.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                      ).fetchone()[0]


def _wait_for_other_backends_to_exit(db: psycopg.Connection, timeout: float = 10.0) -> None:
    """A backend flushes its statistics before it leaves pg_stat_activity."""
    deadline = time.monotonic() + timeout
    while db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     " AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()[0]:
        assert time.monotonic() < deadline, "worker connections did not go away"
        time.sleep(0.02)


def _items(rng: random.Random) -> list[dict]:
    """3 or 4 of the shared slots, listed in random order (not id order)."""
    picked = rng.sample(SLOTS, rng.choice([3, 4]))
    return [{"slot": code, "quantity": rng.randint(1, 2)} for code in picked]


def _create(conn: psycopg.Connection, number: str, items: list[dict]) -> None:
    total = sum(item["quantity"] for item in items) * 1000
    conn.execute("SELECT payments.create_ticket_order(%s, %s, %s, %s)",
                 (number, Jsonb(items), _future(), total))


def _prepare_round(db: psycopg.Connection, rnd: int, rng: random.Random,
                   per_kind: int) -> dict[str, list[str]]:
    """Orders for one round, made in one transaction before the workers start:
    pending orders the settlers will pay, paid orders (their settlement is in
    the ledger) missing their tickets, and orders closed locally (expired)
    still holding their capacity."""
    kinds: dict[str, list[str]] = {"settle": [], "paid": [], "released": []}
    with db.transaction():
        for kind, numbers in kinds.items():
            for i in range(per_kind):
                number = f"R{rnd}-{kind}-{i}"
                _create(db, number, _items(rng))
                numbers.append(number)
        db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
                   " stage, gross_amount, seen_paid)"
                   " SELECT id, 'tx-' || order_number, 'settlement', 22, gross_amount, true"
                   "   FROM payments.orders WHERE order_number = ANY(%s)", (kinds["paid"],))
        db.execute("UPDATE payments.orders SET status = 'paid' WHERE order_number = ANY(%s)",
                   (kinds["paid"],))
        db.execute("UPDATE payments.orders SET status = 'expired', expired_locally_at = now()"
                   " WHERE order_number = ANY(%s)", (kinds["released"],))
    needing = db.execute("SELECT repair, count(*) FROM payments.orders WHERE repair IS NOT NULL"
                         " GROUP BY repair ORDER BY repair").fetchall()
    assert needing == [("fix_ticket_issued", per_kind), ("release_capacity", per_kind)]
    return kinds


class Outcomes:
    """Per-call outcomes of the worker threads (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []

    def call(self, what: str, fn: Callable[[], object], expected: tuple[str, ...] = ()) -> object:
        """Runs fn; counts its outcome; a database error not in `expected` is an error."""
        try:
            result = fn()
        except psycopg.errors.DeadlockDetected as exc:
            with self._lock:
                self.counts[f"{what}:40P01"] += 1
                self.errors.append(f"{what}: 40P01 {exc}")
            return None
        except psycopg.Error as exc:
            with self._lock:
                self.counts[f"{what}:{exc.sqlstate}"] += 1
                if exc.sqlstate not in expected:
                    self.errors.append(f"{what}: {exc.sqlstate} {exc}")
            return None
        with self._lock:
            self.counts[f"{what}:ok"] += 1
        return result

    def note(self, what: str, problem: str) -> None:
        with self._lock:
            self.errors.append(f"{what}: {problem}")


def _run_round(db_url: str, create_plans: list[list[tuple[str, list[dict]]]], settle_parts: list[list[str]],
               outcomes: Outcomes, samples: Counter) -> None:
    """One round: creators, settlers, the two reconcilers and the monitor, all
    at once; returns when the reconcilers found nothing left after the
    creators and settlers were done."""
    workers_done = threading.Event()
    monitor_done = threading.Event()
    start = threading.Barrier(len(create_plans) + len(settle_parts) + 2 + 1)

    def creator(plan: list[tuple[str, list[dict]]]) -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            start.wait()
            for number, items in plan:
                # the slots fill up in the last round: PM003 (no capacity) is an answer, not an error
                outcomes.call("create", lambda n=number, it=items: _create(conn, n, it), expected=("PM003",))

    def settler(numbers: list[str], k: int) -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            start.wait()
            for j, number in enumerate(numbers):
                # a notification, or the Status API's answer; capture/accept or settlement
                source = ("webhook", "sync")[(j + k) % 2]
                status, fraud = (("settlement", None), ("capture", "accept"))[j % 2]
                outcomes.call("settle", lambda n=number, s=source, st=status, f=fraud: conn.execute(
                    "SELECT payments.apply_gateway_status(o.order_number, %s, %s, o.gross_amount,"
                    " 'tx-' || o.order_number, '200', %s, %s)"
                    "  FROM payments.orders AS o WHERE o.order_number = %s",
                    (st, f, s, Jsonb({"order_id": n}), n)).fetchone())

    def reconciler(source: str) -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            run_id = None
            if source == "reconcile":  # the runner: one run, batches inside it
                run_id = conn.execute("SELECT payments.start_run('reconcile', 'reconcile')").fetchone()[0]
            start.wait()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                finished = workers_done.is_set()
                row = outcomes.call(f"reconcile_local[{source}]", lambda: conn.execute(
                    "CALL payments.reconcile_local(7, %s, %s, NULL)", (source, run_id)).fetchone())
                if row is None:
                    continue
                if row[0]["errors"]:
                    outcomes.note(f"reconcile_local[{source}]", f"repairs failed: {row[0]}")
                if finished and row[0]["mismatches_found"] == 0:
                    break
            else:
                outcomes.note(f"reconcile_local[{source}]", "did not finish in 120 s")
            if run_id is not None:
                conn.execute("SELECT payments.finish_run(%s)", (run_id,))

    def monitor() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            start.wait()
            while not monitor_done.is_set():
                over, drift = conn.execute(
                    "SELECT (SELECT count(*) FROM payments.ticket_slots WHERE reserved + sold > capacity"
                    "          OR reserved < 0 OR sold < 0),"
                    "       (SELECT count(*) FROM payments.counter_drift())").fetchone()
                samples["samples"] += 1
                samples["over_capacity"] += over
                samples["drift"] += drift
                time.sleep(0.01)

    workers = [threading.Thread(target=creator, args=(plan,)) for plan in create_plans]
    workers += [threading.Thread(target=settler, args=(part, k)) for k, part in enumerate(settle_parts)]
    reconcilers = [threading.Thread(target=reconciler, args=(s,)) for s in ("reconcile", "cron")]
    watcher = threading.Thread(target=monitor)
    for t in [*workers, *reconcilers, watcher]:
        t.start()
    for t in workers:
        t.join()
    workers_done.set()
    for t in reconcilers:
        t.join()
    monitor_done.set()
    watcher.join()


def test_creation_settlement_and_two_reconcilers_never_deadlock(db, db_url) -> None:
    """Five slots shared by every order (3-4 slots each, items in random
    order). Per round, at the same time: 3 threads create multi-slot orders,
    3 threads settle multi-slot orders (notifications and Status API answers,
    with their documented status codes and transaction ids), the runner's
    reconcile loop (one run, CALL reconcile_local(batch, 'reconcile', run_id))
    and pg_cron's (CALL reconcile_local(batch, 'cron'), a run per call) repair
    paid orders missing tickets and expired orders still holding capacity,
    and a monitor samples the counters. 3 rounds; the slots fill up, so late
    creations are refused (PM003) while releases free capacity. Zero 40P01;
    every repair exactly once; counters within capacity at every sample.
    (With reconcile_local holding its locks for the whole batch, or lock_slots
    locking against id order, the server counted 70-265 deadlocks here.)"""
    capacity = 500  # tight: the last round's creations run into full slots (PM003)
    for code in SLOTS:
        db.execute("SELECT payments.create_ticket_slot(%s, %s)", (code, capacity))
    # a deadlock, if any, is broken (and counted) quickly; new connections only
    dbname = db.execute("SELECT current_database()").fetchone()[0]
    db.execute(sql.SQL("ALTER DATABASE {} SET deadlock_timeout = '200ms'").format(sql.Identifier(dbname)))
    deadlocks_before = _server_deadlocks(db)
    rng = random.Random(20240611)
    rounds, per_kind, creators, settlers, per_creator = 3, 40, 3, 3, 25
    outcomes = Outcomes()
    all_repairs: dict[str, list[str]] = {"paid": [], "released": []}
    created: list[str] = []
    samples = Counter()

    for rnd in range(rounds):
        kinds = _prepare_round(db, rnd, rng, per_kind)
        all_repairs["paid"] += kinds["paid"]
        all_repairs["released"] += kinds["released"]
        to_settle = list(kinds["settle"])
        rng.shuffle(to_settle)
        create_plans = [[(f"R{rnd}-new-{c}-{i}", _items(random.Random(rnd * 1000 + c * 100 + i)))
                         for i in range(per_creator)] for c in range(creators)]
        created += [number for plan in create_plans for number, _ in plan]
        _run_round(db_url, create_plans, [to_settle[k::settlers] for k in range(settlers)], outcomes, samples)

    _wait_for_other_backends_to_exit(db)
    deadlocks_after = _server_deadlocks(db)
    print(f"\nworker calls: {dict(sorted(outcomes.counts.items()))}; monitor: {dict(samples)};"
          f" pg_stat_database.deadlocks {deadlocks_before} -> {deadlocks_after}")

    deadlocked = {k: v for k, v in outcomes.counts.items() if k.endswith(":40P01")}
    assert deadlocked == {}, f"deadlocks raised to callers: {deadlocked}"
    caught = db.execute("SELECT outcome, count(*) FROM payments.webhook_logs"
                        " WHERE event_type = 'reconcile_error' GROUP BY outcome").fetchall()
    assert caught == [], f"repairs that failed inside reconcile_step (40P01 = deadlock): {caught}"
    assert deadlocks_after == deadlocks_before, "the server counted deadlocks in this database"
    assert outcomes.errors == [], outcomes.errors[:5]
    created_ok = outcomes.counts["create:ok"]
    assert created_ok + outcomes.counts["create:PM003"] == rounds * creators * per_creator
    assert db.execute("SELECT count(*) FROM payments.orders WHERE order_number = ANY(%s)"
                      " AND status = 'pending'", (created,)).fetchone()[0] == created_ok
    assert outcomes.counts["settle:ok"] == rounds * per_kind

    # every repair exactly once, by one of the two reconcilers, and nothing else repaired
    repairs = db.execute(
        "SELECT order_number, event_type, outcome, count(*) FROM payments.webhook_logs"
        " WHERE event_type LIKE 'reconcile\\_%' AND event_type <> 'reconcile_run'"
        " GROUP BY order_number, event_type, outcome").fetchall()
    expected = {(n, "reconcile_fix_ticket_issued", "repaired", 1) for n in all_repairs["paid"]}
    expected |= {(n, "reconcile_release_capacity", "repaired", 1) for n in all_repairs["released"]}
    assert set(repairs) == expected and len(repairs) == len(expected)
    by_source = dict(db.execute(
        "SELECT source, count(*) FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\\_%'"
        " AND event_type <> 'reconcile_run' GROUP BY source").fetchall())
    print(f"repairs by source: {by_source}")
    assert sum(by_source.values()) == len(expected)
    totals = db.execute(
        "SELECT coalesce(sum((totals ->> 'reconcile_fix_ticket_issued')::integer), 0),"
        "       coalesce(sum((totals ->> 'reconcile_release_capacity')::integer), 0),"
        "       bool_and(ok), count(*) FILTER (WHERE finished_at IS NULL)"
        "  FROM payments.runs WHERE kind = 'reconcile'").fetchone()
    assert totals == (rounds * per_kind, rounds * per_kind, True, 0)

    # the goods: settled and repaired paid orders hold exactly their tickets; released hold nothing
    statuses = dict(db.execute("SELECT status, count(*) FROM payments.orders GROUP BY status").fetchall())
    assert statuses == {"paid": 2 * rounds * per_kind, "expired": rounds * per_kind, "pending": created_ok}
    assert db.execute(
        "SELECT count(*) FROM payments.orders o JOIN payments.ticket_order_items i ON i.order_id = o.id"
        " WHERE o.status = 'paid' AND (i.finalized_quantity <> i.quantity OR i.quantity <>"
        "   (SELECT count(*) FROM payments.tickets t WHERE t.order_item_id = i.id AND t.status = 'active'))"
    ).fetchone()[0] == 0
    slots = db.execute(
        "SELECT s.code, s.reserved, s.sold,"
        "       coalesce(sum(i.quantity) FILTER (WHERE o.status = 'pending'), 0),"
        "       coalesce(sum(i.quantity) FILTER (WHERE o.status = 'paid'), 0)"
        "  FROM payments.ticket_slots s LEFT JOIN payments.ticket_order_items i ON i.slot_id = s.id"
        "  LEFT JOIN payments.orders o ON o.id = i.order_id GROUP BY s.id ORDER BY s.id").fetchall()
    for code, reserved, sold, pending_qty, paid_qty in slots:
        assert (reserved, sold) == (pending_qty, paid_qty), code
        assert reserved + sold <= capacity
    assert samples["samples"] > 0 and samples["over_capacity"] == 0 and samples["drift"] == 0
    assert _invariants(db) == []


def test_settlement_on_a_hot_slot_is_not_blocked_for_a_whole_reconcile_batch(db, db_url) -> None:
    """One slot, a reconcile batch of 2000 repairs on it (paid orders missing
    their tickets). While the batch runs, settlements of other orders on the
    same slot complete: each waits for at most one repair (one transaction),
    not for the batch. Proved with database timestamps (each settlement
    committed before the batch's reconcile_run row was written, and repairs
    of the batch were committed after it); the latency is printed, not
    asserted (benchmarks measure performance)."""
    batch, settlements = 2000, 5
    db.execute("SELECT payments.create_ticket_slot('HOT', 100000), payments.create_ticket_slot('COLD', 100)")
    db.execute("SELECT payments.create_ticket_order('HOT-' || g, %s, %s, 1000)"
               "  FROM generate_series(1, %s) AS g",
               (Jsonb([{"slot": "HOT", "quantity": 1}]), _future(), batch))
    db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
               " stage, gross_amount, seen_paid)"
               " SELECT id, 'tx-' || order_number, 'settlement', 22, gross_amount, true FROM payments.orders")
    db.execute("UPDATE payments.orders SET status = 'paid'")
    for k in range(settlements):
        db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 3000)",
                   (f"BUYER-{k}", Jsonb([{"slot": "COLD", "quantity": 1}, {"slot": "HOT", "quantity": 2}]),
                    _future()))
    assert db.execute("SELECT count(*) FROM payments.orders WHERE repair IS NOT NULL").fetchone()[0] == batch

    result: dict[str, object] = {}

    def reconcile() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            started = time.perf_counter()
            result["totals"] = conn.execute(
                "CALL payments.reconcile_local(%s, 'reconcile', NULL, NULL)", (batch + 100,)).fetchone()[0]
            result["seconds"] = time.perf_counter() - started

    def repaired(conn: psycopg.Connection) -> int:
        return conn.execute("SELECT count(*) FROM payments.webhook_logs"
                            " WHERE event_type = 'reconcile_fix_ticket_issued'").fetchone()[0]

    thread = threading.Thread(target=reconcile)
    latencies: list[float] = []
    settled: list[tuple[str, object, int]] = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        thread.start()
        deadline = time.monotonic() + 60
        while repaired(conn) < 100:  # the batch is under way, holding the slot one repair at a time
            assert time.monotonic() < deadline and thread.is_alive(), "the batch never started"
            time.sleep(0.005)
        for k in range(settlements):
            before = repaired(conn)
            assert before < batch - 200, "the batch is nearly over: make it larger for this machine"
            started = time.perf_counter()
            decision = conn.execute(
                "SELECT payments.apply_gateway_status(%s, 'settlement', NULL, '3000.00', %s, '200',"
                " 'webhook', '{}')", (f"BUYER-{k}", f"tx-buyer-{k}")).fetchone()[0]["decision"]
            latencies.append(time.perf_counter() - started)
            # a database time after the settlement committed (autocommit: it has)
            after_commit = conn.execute("SELECT clock_timestamp()").fetchone()[0]
            settled.append((decision, after_commit, before))
            time.sleep(0.02)
        thread.join(timeout=120)
    assert not thread.is_alive()

    totals = result["totals"]
    assert totals["repaired"] == batch and totals["errors"] == 0, totals
    run_logged_at, run_finished_at = db.execute(
        "SELECT l.created_at, r.finished_at FROM payments.webhook_logs l"
        "  JOIN payments.runs r ON r.id = l.run_id WHERE l.event_type = 'reconcile_run'").fetchone()
    print(f"\nsettlement latency on the hot slot during a {batch}-repair batch"
          f" ({result['seconds']:.2f} s, {batch / result['seconds']:.0f} repairs/s):"
          f" median {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms,"
          f" all {[round(x * 1000, 1) for x in latencies]} ms")
    for decision, after_commit, _ in settled:
        assert decision == "paid"
        assert after_commit < run_logged_at and after_commit < run_finished_at, \
            "the settlement waited for the whole batch"
        later = db.execute("SELECT count(*) FROM payments.webhook_logs"
                           " WHERE event_type = 'reconcile_fix_ticket_issued' AND created_at > %s",
                           (after_commit,)).fetchone()[0]
        assert later > 0, "the batch committed repairs after the settlement: it was still running"
    settlement_logs = db.execute(
        "SELECT count(*) FROM payments.webhook_logs WHERE event_type = 'gateway_status' AND outcome = 'paid'"
        " AND created_at < %s", (run_logged_at,)).fetchone()[0]
    assert settlement_logs == settlements
    assert db.execute("SELECT reserved, sold FROM payments.ticket_slots WHERE code = 'HOT'"
                      ).fetchone() == (0, batch + 2 * settlements)
    assert db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'"
                      ).fetchone()[0] == batch + 3 * settlements
    assert _invariants(db) == []


# -- answers of one run: their log rows name the run (FK) -----------------------------------------


def test_two_sync_answers_logged_in_one_run_do_not_deadlock(db: psycopg.Connection, db_url: str) -> None:
    """Found by the HTTP property test (tests/test_property.py) as "sync P-4: database refused the
    answer: 40P01". apply_gateway_status(..., run_id) writes its webhook_logs row first -- the foreign
    key webhook_logs.run_id takes FOR KEY SHARE on the run's row -- and then
    payments_private.count_in_run locks that row. Taken FOR UPDATE, that conflicts with every other
    answer's KEY SHARE: two answers of one sync run (sync_once applies up to PAYMENTS_HTTP_CONCURRENCY
    at once) that both logged before either counted wait for each other. count_in_run
    (payments_private.answer_in_run) takes FOR SHARE, which neither KEY SHARE nor another answer's
    FOR SHARE blocks (with FOR UPDATE this test deadlocks; tests/test_run_answers.py shows that the
    answers of a run do not wait for each other at all).

    Here connection A is stopped between the two halves (its log row written, its count not yet),
    exactly where a concurrent apply_gateway_status can be; B is a real apply_gateway_status of the
    same run."""
    db.execute("SELECT test_helpers.slot('S0', 10)")
    for number in ("X-1", "X-2"):
        db.execute("SELECT test_helpers.ticket_order(%s, 'S0', 1, 100000)", (number,))
    run_id = db.execute("SELECT run_id FROM payments.start_sync(interval '0', interval '0', 10, %s)",
                        (["X-1", "X-2"],)).fetchone()[0]
    outcome: dict[str, str] = {}
    with psycopg.connect(db_url) as a:          # one transaction, held open
        # A, half-way through its own apply_gateway_status('X-1', ...): the decision logged
        a.execute("SELECT payments_private.write_log(NULL, 'sync', 'gateway_status', 'paid', 'X-1', 'tx-a',"
                  " 'settlement', 'accept', '200', 100000, NULL, '{}', NULL, %s)", (run_id,))

        def answer_b() -> None:
            with psycopg.connect(db_url, autocommit=True) as b:
                try:
                    outcome["b"] = b.execute(
                        "SELECT payments.apply_gateway_status('X-2', 'settlement', 'accept', 100000, 'tx-b',"
                        " '200', 'sync', '{}', %s, 'status_api')", (run_id,)).fetchone()[0]["decision"]
                except psycopg.Error as exc:
                    outcome["b"] = f"{exc.sqlstate} {type(exc).__name__}"

        thread = threading.Thread(target=answer_b)
        thread.start()
        for _ in range(200):                    # B done, or (a lock that conflicts) waiting for A
            if not thread.is_alive() or db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%apply_gateway_status%'").fetchone()[0]:
                break
            threading.Event().wait(0.02)
        try:
            # A, second half: counts its answer in the run
            a.execute("SELECT payments_private.count_in_run(%s, 'X-1', true)", (run_id,))
            a.commit()
            outcome["a"] = "counted"
        except psycopg.Error as exc:
            outcome["a"] = f"{exc.sqlstate} {type(exc).__name__}"
            a.rollback()
        thread.join(timeout=30)
    assert outcome == {"a": "counted", "b": "paid"}, outcome
