"""Benchmark 4 -- contention: 1,000 buyers race for the last 100 seats.

1,000 ``payments.create_ticket_order`` calls (one ticket each, a different
order number each) over 32 connections, all for one slot with 100 seats left.
Exactly 100 must succeed and 900 fail with PM003 (no capacity); the slot ends
at reserved = 100 = capacity and ``check_invariants()`` is clean. Reports the
wall time of the race.

Baseline (same run, same server, same 32 connections): the same 1,000 calls
spread over 1,000 slots with room, so no two buyers touch the same slot row.
The ratio is race throughput / uncontended throughput.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from bench import common
from bench.common import Context, Reporter, percentile, say

BUYERS = 1000
SEATS = 100
CONNECTIONS = 32


async def race(url: str, buyers: list[tuple[str, str]]) -> tuple[float, Counter[str], list[float]]:
    """Each (order_number, slot code) buys one ticket; returns wall time, outcomes, latencies (ms)."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for buyer in buyers:
        queue.put_nowait(buyer)
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    conns = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(CONNECTIONS)]
    start = asyncio.Event()

    async def buyer_loop(conn: psycopg.AsyncConnection) -> None:
        await start.wait()
        while not queue.empty():
            order, slot = queue.get_nowait()
            began = time.perf_counter()
            try:
                await conn.execute(
                    "SELECT payments.create_ticket_order(%s, %s, %s, 150000)",
                    (order, Jsonb([{"slot": slot, "quantity": 1, "unit_price": 150000}]), expires))
                outcomes["ok"] += 1
            except psycopg.Error as exc:
                outcomes[exc.sqlstate or type(exc).__name__] += 1
            latencies.append((time.perf_counter() - began) * 1000)

    try:
        tasks = [asyncio.create_task(buyer_loop(c)) for c in conns]
        await asyncio.sleep(0.1)
        began = time.perf_counter()
        start.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)
        return time.perf_counter() - began, outcomes, latencies
    finally:
        for conn in conns:
            await conn.close()


def run(ctx: Context, rep: Reporter) -> None:
    with ctx.database("payments_bench_contention") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT payments.create_ticket_slot('LAST-SEATS', %s)", (SEATS,))
            # 1000 slots in one bulk INSERT rather than 1000 logged catalog calls
            conn.execute("INSERT INTO payments.ticket_slots (code, capacity)"
                         " SELECT 'ROOMY-' || g, 10 FROM generate_series(1, %s) AS g", (BUYERS,))
            conn.execute("ANALYZE payments.ticket_slots")

        say(f"  baseline: {BUYERS} buyers on {BUYERS} different slots, {CONNECTIONS} connections")
        spread = [(f"UNC-{i}", f"ROOMY-{i}") for i in range(1, BUYERS + 1)]
        base_s, base_out, _ = asyncio.run(race(url, spread))
        say(f"  race: {BUYERS} buyers for the last {SEATS} seats of one slot, {CONNECTIONS} connections")
        hot = [(f"RACE-{i}", "LAST-SEATS") for i in range(1, BUYERS + 1)]
        race_s, out, lat = asyncio.run(race(url, hot))

        with psycopg.connect(url, autocommit=True) as conn:
            reserved, sold, capacity = conn.execute(
                "SELECT reserved, sold, capacity FROM payments.ticket_slots"
                " WHERE code = 'LAST-SEATS'").fetchone()
            orders = conn.execute(
                "SELECT count(*) FROM payments.orders WHERE order_number LIKE 'RACE-%'").fetchone()[0]
            violations = conn.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0]

    base_rate, race_rate = BUYERS / base_s, BUYERS / race_s
    rep.fact("race_outcomes", dict(out))
    rep.fact("baseline_outcomes", dict(base_out))
    rep.add("uncontended: 1,000 create_ticket_order on 1,000 slots", base_rate, "calls/s",
            note=f"{base_s * 1000:,.0f} ms, outcomes {dict(base_out)}")
    rep.add("race: 1,000 buyers, 100 seats, time taken", race_s * 1000, "ms",
            note=f"p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms per call")
    rep.add("race throughput", race_rate, "calls/s", baseline="uncontended", baseline_value=base_rate,
            ratio=race_rate / base_rate)
    exact = out["ok"] == SEATS and out["PM003"] == BUYERS - SEATS and sum(out.values()) == BUYERS
    rep.add("exactly 100 succeed, 900 get PM003", float(out["ok"]), "check", target="100 / 900", met=exact,
            note=f"outcomes {dict(out)}")
    books = reserved == SEATS and sold == 0 and capacity == SEATS and orders == SEATS and violations == 0
    rep.add("slot reserved = 100 = capacity, 100 orders, invariants clean", float(books), "check",
            target="yes", met=books, note=f"reserved {reserved}, orders {orders}, violations {violations}")
    rep.add("uncontended run: all 1,000 succeed", float(base_out["ok"]), "check", target="1000",
            met=base_out["ok"] == BUYERS)


def main(argv: list[str] | None = None) -> int:
    return common.script_main("contention", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
