"""Benchmark 3 -- reconciliation: the clean check at 10k / 100k / 1M orders, then the repair rate.

Orders are bulk-loaded as superuser with ``INSERT ... SELECT generate_series``
straight into the tables, books kept consistent (markers match statuses, paid
ticket orders have their active tickets, counters equal the sums implied by the
orders; ``check_invariants()`` is asserted clean at each size), then
``VACUUM (ANALYZE)`` as autovacuum would. The mix: 45% paid ticket orders,
10% pending, 15% expired / failed (released); 20% paid product orders, 5%
pending, 5% expired (released). The database grows 10k -> 100k -> 1M.

At each size, timed from the client:

* ``CALL payments.reconcile_local()`` on a clean database (the pg_cron job:
  checks 1-4 through the ``orders.repair`` column; it also opens and closes a
  ``runs`` row);
* ``payments.find_mismatches()`` as shipped (checks 1-6);
* checks 1-5 of find_mismatches alone (the same five queries, without
  ``counter_drift()``) and ``counter_drift()`` alone (check 6 aggregates every
  order item, so it grows with the table).

Baseline for the clean check: the mean latency of ``pgbench -S`` with one
client (one primary-key SELECT round trip). Target: flat (the largest size
takes at most 2x the 10k figure, or at most 1 ms more: sub-millisecond
differences are noise) and <= 50 ms at 1M.

Repair rate: N broken orders are added (a quarter each: paid ticket orders
without tickets, expired ticket orders still holding capacity, paid product
orders without pickup code / stock confirmation, expired product orders still
holding stock), then ``CALL reconcile_local(500)`` (one transaction per repair)
is called in a loop until a batch finds nothing. Orders repaired per second; baseline ``pgbench -N`` with one
client (the reconciler is one session). Target >= 2,000/s.

Settlement during a batch: 2,000 paid orders missing their tickets, all on one
hot slot, are repaired by one ``CALL reconcile_local(2100)`` while another
session settles orders on the same slot, one after another. The figure is the
settlement latency while the batch runs; the baseline is the same settlements
with no batch running (ratio = during / idle). Reconciliation commits after
each repair, so a settlement waits for at most one repair, never the batch
(with the batch held in one transaction it waited seconds; Midtrans gives up
after 15).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from bench import common, fixtures
from bench.common import Context, Reporter, median, percentile, say

BATCH = 500
HOT_BATCH = 2000
HOT_SETTLEMENTS = 20

# checks 1-5 exactly as payments.find_mismatches() runs them, without check 6
CHECKS_1_TO_5 = """
(SELECT o.repair, o.order_number FROM payments.orders AS o
  WHERE o.repair IS NOT NULL
  ORDER BY o.id LIMIT %(n)s)
UNION ALL
(SELECT 'needs_gateway_status', o.order_number FROM payments.orders AS o
  WHERE o.status = 'pending' AND o.expires_at < now() - interval '15 minutes'
  ORDER BY o.expires_at LIMIT %(n)s)
"""

def timings(conn: psycopg.Connection, sql: str, repeat: int, params: dict | None = None) -> list[float]:
    """Client-side wall time of each run in ms (after one warm-up run)."""
    conn.execute(sql, params).fetchall()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        conn.execute(sql, params).fetchall()
        out.append((time.perf_counter() - started) * 1000)
    return out


def timed_once(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


def run(ctx: Context, rep: Reporter) -> None:
    sizes = [10_000, 100_000] if ctx.quick else [10_000, 100_000, 1_000_000]
    repeat = 10 if ctx.quick else 30
    broken = 4_000 if ctx.quick else 20_000

    select_base = common.pgbench_baseline(ctx, clients=1, seconds=3 if ctx.quick else 5, select_only=True)
    rep.add("pgbench -S mean latency (1 client)", select_base.latency_ms, "ms",
            note=f"{select_base.tps:,.0f} tps")
    write_base = common.pgbench_baseline(ctx, clients=1, seconds=3 if ctx.quick else 5)
    rep.add("pgbench -N TPS (1 client)", write_base.tps, "tps")

    with ctx.database("payments_bench_reconcile") as url, psycopg.connect(url, autocommit=True) as conn:
        first_slot, first_variant = fixtures.make_catalogue(conn, "REC")
        loaded = 0
        clean: dict[int, float] = {}
        for size in sizes:
            load_s = fixtures.load_orders(conn, loaded + 1, size, first_slot, first_variant)
            loaded = size
            inv_ms, inv = timed_once(lambda: conn.execute(
                "SELECT count(*) FROM payments.check_invariants()").fetchone()[0])
            mismatches = conn.execute("SELECT count(*) FROM payments.find_mismatches()").fetchone()[0]
            say(f"  {size:,} orders (loaded in {load_s:.1f}s): check_invariants() {inv} rows in "
                f"{inv_ms:,.0f} ms, find_mismatches() {mismatches} rows")
            if inv or mismatches:
                raise RuntimeError(f"bulk load is not clean at {size}: {inv} violations, "
                                   f"{mismatches} mismatches")

            rl = timings(conn, "CALL payments.reconcile_local()", repeat)
            fm = timings(conn, "SELECT * FROM payments.find_mismatches()", 3)
            c15 = timings(conn, CHECKS_1_TO_5, repeat, {"n": 100})
            cd = timings(conn, "SELECT * FROM payments.counter_drift()", 3)
            clean[size] = median(rl)
            label = f"{size // 1000:,}k" if size < 1_000_000 else f"{size // 1_000_000}M"
            rep.add(f"reconcile_local() clean, {label} orders (median of {repeat})", median(rl), "ms",
                    baseline="pgbench -S latency", baseline_value=select_base.latency_ms,
                    ratio=median(rl) / select_base.latency_ms,
                    target="<= 50 ms" if size == 1_000_000 else None,
                    met=median(rl) <= 50 if size == 1_000_000 else None,
                    note=f"p95 {percentile(rl, 95):.2f} ms")
            rep.add(f"find_mismatches() checks 1-5, {label}", median(c15), "ms",
                    baseline="pgbench -S latency", baseline_value=select_base.latency_ms,
                    ratio=median(c15) / select_base.latency_ms)
            rep.add(f"find_mismatches() as shipped (1-6), {label}", median(fm), "ms",
                    baseline="pgbench -S latency", baseline_value=select_base.latency_ms,
                    ratio=median(fm) / select_base.latency_ms)
            rep.add(f"counter_drift() alone, {label}", median(cd), "ms")
            rep.add(f"check_invariants() full audit, {label}", inv_ms, "ms", note="once; informational")
            rep.fact(f"load_seconds_{size}", round(load_s, 1))

        largest = sizes[-1]
        growth = clean[largest] / clean[sizes[0]]
        flat = clean[largest] <= max(2 * clean[sizes[0]], clean[sizes[0]] + 1.0)
        rep.add(f"reconcile_local() clean: {largest:,} vs 10,000 orders", growth, "x",
                target="flat", met=flat, note=f"{clean[sizes[0]]:.2f} -> {clean[largest]:.2f} ms; flat = "
                "at most 2x or +1 ms")
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + CHECKS_1_TO_5, {"n": 100}).fetchall()
        rep.fact("explain_checks_1_to_5", [r[0] for r in plan])

        # -- repair rate ---------------------------------------------------------
        with conn.transaction():
            after = fixtures.last_order_id(conn)
            conn.execute(fixtures.LOAD_BROKEN, {"n": broken})
            fixtures.add_items(conn, after, first_slot, first_variant)
        found = conn.execute(
            "SELECT count(*) FROM (" + CHECKS_1_TO_5 + ") AS m", {"n": broken * 2}).fetchone()[0]
        if found != broken:
            raise RuntimeError(f"expected {broken} mismatches, found {found}")
        say(f"  {broken:,} broken orders added on top of {largest:,}; reconcile_local({BATCH}) until clean")
        repaired = errors = batches = 0
        started = time.perf_counter()
        for _ in range(broken // BATCH + 20):
            totals = conn.execute("CALL payments.reconcile_local(%s)", (BATCH,)).fetchone()[0]
            batches += 1
            repaired += totals["repaired"]
            errors += totals["errors"] + totals["flagged"]
            if totals["mismatches_found"] == 0:
                break
        elapsed = time.perf_counter() - started
        rate = repaired / elapsed
        rep.add(f"repair rate, reconcile_local({BATCH}) batches", rate, "orders/s",
                baseline="pgbench -N 1 client", baseline_value=write_base.tps, ratio=rate / write_base.tps,
                target=">= 2,000/s", met=rate >= 2000,
                note=f"{repaired} repaired in {elapsed:.1f}s, {batches} batches")
        inv_ms, inv = timed_once(lambda: conn.execute(
            "SELECT count(*) FROM payments.check_invariants()").fetchone()[0])
        all_repaired = repaired == broken and errors == 0
        rep.add("all broken orders repaired, none flagged or failed", float(all_repaired), "check",
                target="all", met=all_repaired, note=f"{repaired} repaired, {errors} flagged or failed")
        rep.add("check_invariants() violations after repair", inv, "check", target="0", met=inv == 0,
                note=f"audit took {inv_ms:,.0f} ms")

    hot_slot_during_batch(ctx, rep)



def settle_hot(conn: psycopg.Connection, prefix: str, count: int) -> list[float]:
    """Settle `count` pending orders {prefix}-k on the hot slot, one by one; latencies in ms."""
    latencies = []
    for k in range(count):
        began = time.perf_counter()
        decision = conn.execute(
            "SELECT payments.apply_gateway_status(%s, 'settlement', NULL, '1000.00', %s, '200',"
            " 'webhook', '{}')",
            (f"{prefix}-{k}", f"TX-{prefix}-{k}")).fetchone()[0]["decision"]
        latencies.append((time.perf_counter() - began) * 1000)
        if decision != "paid":
            raise RuntimeError(f"settlement {prefix}-{k}: {decision}")
        time.sleep(0.01)
    return latencies


def hot_slot_during_batch(ctx: Context, rep: Reporter) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    with ctx.database("payments_bench_hot") as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT payments.create_ticket_slot('HOT', 1000000)")
        conn.execute("SELECT payments.create_ticket_order('BROKEN-' || g, %s, %s, 1000)"
                     "  FROM generate_series(1, %s) AS g",
                     (Jsonb([{"slot": "HOT", "quantity": 1}]), expires, HOT_BATCH))
        conn.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id,"
                     " transaction_status, stage, gross_amount, seen_paid)"
                     " SELECT id, 'tx-' || order_number, 'settlement', 22, gross_amount, true"
                     " FROM payments.orders")
        conn.execute("UPDATE payments.orders SET status = 'paid', paid_at = now()")   # tickets missing
        for prefix in ("IDLE", "BUSY"):
            conn.execute("SELECT payments.create_ticket_order(%s || '-' || g, %s, %s, 1000)"
                         "  FROM generate_series(0, %s) AS g",
                         (prefix, Jsonb([{"slot": "HOT", "quantity": 1}]), expires, HOT_SETTLEMENTS - 1))
        conn.execute("VACUUM ANALYZE payments.orders")
        idle = settle_hot(conn, "IDLE", HOT_SETTLEMENTS)

        done: dict[str, float] = {}

        def batch() -> None:
            with psycopg.connect(url, autocommit=True) as rconn:
                began = time.perf_counter()
                rconn.execute("CALL payments.reconcile_local(%s)", (HOT_BATCH + 100,))
                done["seconds"] = time.perf_counter() - began

        thread = threading.Thread(target=batch)
        thread.start()
        while conn.execute("SELECT count(*) FROM payments.orders WHERE order_number LIKE 'BROKEN-%%'"
                           " AND repair IS NULL").fetchone()[0] < 50:
            time.sleep(0.002)
        busy = settle_hot(conn, "BUSY", HOT_SETTLEMENTS)
        left = conn.execute("SELECT count(*) FROM payments.orders WHERE repair IS NOT NULL").fetchone()[0]
        thread.join()
        if left == 0:
            say("  (the batch ended before the settlements did: figures understate the contention)")
        med_idle, med_busy = median(idle), median(busy)
        rep.add("settlement on a hot slot during a 2,000-repair batch, median", med_busy, "ms",
                baseline="same settlements, no batch", baseline_value=med_idle, ratio=med_busy / med_idle,
                note=f"max {max(busy):.1f} ms; batch {done['seconds']:.1f} s, {left} repairs left when the "
                     f"last settlement committed")
        inv = conn.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0]
        rep.add("check_invariants() violations after the hot-slot batch", inv, "check", target="0",
                met=inv == 0)


def main(argv: list[str] | None = None) -> int:
    return common.script_main("reconcile", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
