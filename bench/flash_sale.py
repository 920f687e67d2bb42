"""Benchmark 5 -- flash sale: 10,000 buyers for 1,000 seats, then the settlement burst.

**Creates.** One slot (``payments.create_ticket_slot``) with 1,000 seats and
10,000 ``payments.create_ticket_order`` calls (one ticket each, a different
order number each) over 32 connections released together (the race of
bench/contention.py, ten times bigger and on a slot that starts empty).
Exactly 1,000 must succeed and 9,000 fail with PM003 (no capacity), counted
exactly. Reports creates/s over the whole burst (refusals included) and the
p50 / p99 latency of one call. Baseline (same run, same server, same 32
connections, just before): the same number of calls spread over 1,000 slots
with room (capacity 100 each), so no two concurrent buyers touch one slot row;
ratio = hot / spread.

**Settlements.** The 1,000 winners' payments then arrive as a webhook burst:
the real ``payments serve --no-sync --no-reconcile`` (default pool, Status API
confirmation on, as by default) and the Midtrans simulator
(bench/simulator_serve.py, started as bench/webhook_e2e.py does). Each winner
gets a bank transfer in the simulator through its control API (``POST
/_sim/transactions``, then ``POST /_sim/transactions/{order}/settle``, no
notification sent), and the 1,000 signed ``settlement`` notifications carrying
the simulator's transaction ids are fired at once at serve, 32 in flight
(bench/loadgen.py's closed loop, in this process). Reports settlements/s of
the burst and its p50 / p99 latency. Every notification must be answered 200
``paid``, every winner paid with exactly one ticket (on the Status API's
answer), the slot at sold = 1,000 and reserved = 0, and ``check_invariants()``
empty.

Before the burst, on the same serve: a warm-up of 200 notifications (pool
connections, plans, HTTP keep-alive; not reported) and, as the burst's
baseline, a burst of as many notifications for spread orders of the baseline
above, each order on its own slot: ratio = hot burst / spread burst. The
burst is also held to the webhook benchmark's target against ``pgbench -N``
(8 clients, measured just before): >= 0.25x. The creates have no target: the
figure is the price of the hot row.

``--quick``: 2,000 buyers for 200 seats.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import psycopg

from bench import common, loadgen
from bench.common import Context, Reporter, percentile, say
from bench.contention import CONNECTIONS, race
from bench.fixtures import ORDER_AMOUNT
from bench.webhook_e2e import payments_serve, simulator
from tests.pgserver import free_port

HOT_SLOT = "FLASH-SALE"
SPREAD_SLOTS = 1000
SPREAD_CAPACITY = 100
IN_FLIGHT = 32
WARM_UP = 200      # notifications before the measured bursts (connections, plans, HTTP pools)
BURST_SECONDS = 240   # bound on the notification burst (it takes seconds)


async def sim_transactions(base: str, orders: list[str]) -> dict[str, str]:
    """A settled bank transfer per order in the simulator (control API, no notification);
    returns order -> the simulator's transaction_id."""
    found: dict[str, str] = {}
    gate = asyncio.Semaphore(16)

    async def one(client: httpx.AsyncClient, order: str) -> None:
        async with gate:
            made = await client.post(f"{base}/_sim/transactions", json={
                "order_id": order, "gross_amount": ORDER_AMOUNT, "payment_type": "bank_transfer",
                "notify": False})
            made.raise_for_status()
            settled = await client.post(f"{base}/_sim/transactions/{order}/settle", json={"notify": False})
            settled.raise_for_status()
            txn = settled.json()["transaction"]
            if txn["transaction_status"] != "settlement":
                raise RuntimeError(f"simulator did not settle {order}: {txn}")
            found[order] = txn["transaction_id"]

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.wait_for(asyncio.gather(*(one(client, o) for o in orders)), timeout=300)
    return found


def burst(port: int, transactions: dict[str, str]) -> dict:
    """Every notification built and signed first, then all fired, IN_FLIGHT at a time."""
    requests = [loadgen.build_request("127.0.0.1", port, order, common.SERVER_KEY, transaction_id=tx)
                for order, tx in transactions.items()]
    stats = loadgen.Stats()
    elapsed = asyncio.run(loadgen.closed_loop("127.0.0.1", [port], requests, IN_FLIGHT, BURST_SECONDS, stats))
    sent = len(stats.latencies)
    return {"sent": sent, "ok": stats.status["ok"],
            "errors": {k: v for k, v in stats.status.items() if k != "ok"},
            "first_error": stats.first_error, "seconds": elapsed,
            "p50_ms": percentile(stats.latencies, 50) * 1000 if sent else 0.0,
            "p99_ms": percentile(stats.latencies, 99) * 1000 if sent else 0.0}


def run(ctx: Context, rep: Reporter) -> None:
    buyers, seats = (2000, 200) if ctx.quick else (10_000, 1000)
    pg_seconds = 6 if ctx.quick else 10
    with ctx.database("payments_bench_flash") as url, tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT payments.create_ticket_slot(%s, %s)", (HOT_SLOT, seats))
            # the baseline's slots in one bulk INSERT rather than 1,000 logged catalog calls
            conn.execute("INSERT INTO payments.ticket_slots (code, capacity)"
                         " SELECT 'ROOM-' || g, %s FROM generate_series(1, %s) AS g",
                         (SPREAD_CAPACITY, SPREAD_SLOTS))
            conn.execute("ANALYZE payments.ticket_slots")

        say(f"  baseline: {buyers:,} buyers spread over {SPREAD_SLOTS:,} slots with room, "
            f"{CONNECTIONS} connections")
        spread = [(f"SPREAD-{i}", f"ROOM-{i % SPREAD_SLOTS + 1}") for i in range(1, buyers + 1)]
        base_s, base_out, base_lat = asyncio.run(race(url, spread))
        say(f"  flash sale: {buyers:,} buyers for {seats:,} seats of one slot, {CONNECTIONS} connections")
        hot = [(f"FLASH-{i}", HOT_SLOT) for i in range(1, buyers + 1)]
        hot_s, out, lat = asyncio.run(race(url, hot))

        with psycopg.connect(url, autocommit=True) as conn:
            winners = [r[0] for r in conn.execute(
                "SELECT order_number FROM payments.orders WHERE order_number LIKE 'FLASH-%'"
                " ORDER BY id").fetchall()]
            reserved_after_sale = conn.execute(
                "SELECT reserved FROM payments.ticket_slots WHERE code = %s", (HOT_SLOT,)).fetchone()[0]

        base_rate, hot_rate = buyers / base_s, buyers / hot_s
        rep.fact("flash_outcomes", dict(out))
        rep.fact("spread_outcomes", dict(base_out))
        rep.add(f"spread: {buyers:,} create_ticket_order on {SPREAD_SLOTS:,} slots", base_rate, "orders/s",
                note=f"{base_s * 1000:,.0f} ms, p50 {percentile(base_lat, 50):.1f} ms, "
                     f"p99 {percentile(base_lat, 99):.1f} ms per call")
        rep.add(f"flash sale: {buyers:,} creates for {seats:,} seats of one slot", hot_rate, "orders/s",
                baseline="spread", baseline_value=base_rate, ratio=hot_rate / base_rate,
                note=f"{hot_s * 1000:,.0f} ms for the whole burst, refusals included")
        rep.add("flash sale: latency p50 of a create call", percentile(lat, 50), "ms",
                baseline="spread p50", baseline_value=percentile(base_lat, 50),
                ratio=percentile(lat, 50) / percentile(base_lat, 50))
        rep.add("flash sale: latency p99 of a create call", percentile(lat, 99), "ms",
                baseline="spread p99", baseline_value=percentile(base_lat, 99),
                ratio=percentile(lat, 99) / percentile(base_lat, 99))
        exact = out["ok"] == seats and out["PM003"] == buyers - seats and sum(out.values()) == buyers \
            and len(winners) == seats and reserved_after_sale == seats
        rep.add(f"exactly {seats:,} created, {buyers - seats:,} refused with PM003", float(out["ok"]),
                "check", target=f"{seats} / {buyers - seats}", met=exact,
                note=f"outcomes {dict(out)}, {len(winners)} orders, slot reserved {reserved_after_sale}")
        rep.add(f"spread run: all {buyers:,} created", float(base_out["ok"]), "check", target=str(buyers),
                met=base_out["ok"] == buyers and sum(base_out.values()) == buyers,
                note=f"outcomes {dict(base_out)}")
        if not exact:
            return   # the settlement phase needs exactly the winners; the failed check fails the script

        say(f"  pgbench -N baseline, 8 clients, {pg_seconds}s")
        baseline = common.pgbench_baseline(ctx, clients=8, seconds=pg_seconds)
        rep.add("pgbench -N TPS (8 clients)", baseline.tps, "tps")

        # warm-up and baseline bursts settle spread orders (each on its own roomy slot)
        warm = [f"SPREAD-{i}" for i in range(1, WARM_UP + 1)]
        calm = [f"SPREAD-{i}" for i in range(WARM_UP + 1, WARM_UP + seats + 1)]
        log_path = Path(tmp) / "serve.log"
        with simulator(free_port(), 1, 0) as midtrans:
            transactions = asyncio.run(sim_transactions(midtrans, warm + calm + winners))
            port = free_port()
            with payments_serve(url, port, log_path, midtrans):
                say(f"  {len(transactions):,} settled transactions in the simulator; payments serve "
                    f"(Status API confirmation on); warm-up: {WARM_UP} notifications")
                warmed = burst(port, {o: transactions[o] for o in warm})
                say(f"  baseline burst: {seats:,} notifications for orders on {seats:,} different slots, "
                    f"{IN_FLIGHT} in flight")
                spread_burst = burst(port, {o: transactions[o] for o in calm})
                say(f"  settlement burst: the {seats:,} winners' notifications at once, "
                    f"{IN_FLIGHT} in flight")
                result = burst(port, {o: transactions[o] for o in winners})

        with psycopg.connect(url, autocommit=True) as conn:
            paid, one_ticket = conn.execute(
                "SELECT count(*) FILTER (WHERE o.status = 'paid'),"
                "       count(*) FILTER (WHERE o.status = 'paid' AND o.tickets_issued_at IS NOT NULL"
                "         AND (SELECT count(*) FROM payments.tickets AS t"
                "                JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id"
                "               WHERE i.order_id = o.id AND t.status = 'active') = 1)"
                "  FROM payments.orders AS o WHERE o.order_number LIKE 'FLASH-%'").fetchone()
            tickets = conn.execute(
                "SELECT count(*) FROM payments.tickets AS t"
                "  JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id"
                "  JOIN payments.ticket_slots AS s ON s.id = i.slot_id WHERE s.code = %s",
                (HOT_SLOT,)).fetchone()[0]
            sold, reserved = conn.execute(
                "SELECT sold, reserved FROM payments.ticket_slots WHERE code = %s", (HOT_SLOT,)).fetchone()
            evidence = Counter(dict(conn.execute(
                "SELECT detail ->> 'evidence', count(*) FROM payments.webhook_logs"
                " WHERE source = 'webhook' AND outcome = 'paid' GROUP BY 1").fetchall()))
            violations = conn.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0]

    rate = result["sent"] / result["seconds"]
    calm_rate = spread_burst["sent"] / spread_burst["seconds"]
    rep.fact("burst", result)
    rep.fact("spread_burst", spread_burst)
    rep.fact("warm_up", warmed)
    rep.add(f"spread burst: {seats:,} notifications, orders on {seats:,} slots, confirmed", calm_rate,
            "settle/s", note=f"{spread_burst['sent']} in {spread_burst['seconds'] * 1000:,.0f} ms, "
            f"p50 {spread_burst['p50_ms']:.1f} ms, p99 {spread_burst['p99_ms']:.1f} ms")
    rep.add(f"settlement burst: {seats:,} notifications, one slot, {IN_FLIGHT} in flight, confirmed", rate,
            "settle/s", baseline="pgbench -N", baseline_value=baseline.tps, ratio=rate / baseline.tps,
            target=">= 0.25x", met=rate / baseline.tps >= 0.25,
            note=f"{result['sent']} in {result['seconds'] * 1000:,.0f} ms")
    rep.add("settlement burst vs spread burst", rate, "settle/s", baseline="spread burst",
            baseline_value=calm_rate, ratio=rate / calm_rate)
    rep.add("settlement burst: latency p50", result["p50_ms"], "ms", baseline="spread burst p50",
            baseline_value=spread_burst["p50_ms"], ratio=result["p50_ms"] / spread_burst["p50_ms"])
    rep.add("settlement burst: latency p99", result["p99_ms"], "ms", baseline="spread burst p99",
            baseline_value=spread_burst["p99_ms"], ratio=result["p99_ms"] / spread_burst["p99_ms"])
    answered = result["sent"] == seats and result["ok"] == seats and not result["errors"] \
        and all(b["ok"] == b["sent"] and not b["errors"] for b in (warmed, spread_burst)) \
        and warmed["sent"] == WARM_UP and spread_burst["sent"] == seats
    rep.add(f"all {seats:,} notifications answered 200 'paid'", float(result["ok"]), "check",
            target=str(seats), met=answered,
            note=f"errors {result['errors']}, first {result['first_error']}; warm-up and spread bursts: "
                 f"{warmed['ok']} + {spread_burst['ok']} ok")
    goods = paid == seats and one_ticket == seats and tickets == seats \
        and evidence.get("status_api", 0) == sum(evidence.values()) == WARM_UP + 2 * seats
    rep.add(f"{seats:,} orders paid, one ticket each, on the Status API's answer", float(one_ticket), "check",
            target="all", met=goods, note=f"{paid} paid, {one_ticket} with one ticket, {tickets} tickets "
            f"on the slot, evidence {dict(evidence)}")
    books = sold == seats and reserved == 0 and violations == 0
    rep.add(f"slot sold = {seats:,}, reserved = 0, check_invariants() empty", float(books), "check",
            target="yes", met=books, note=f"sold {sold}, reserved {reserved}, violations {violations}")


def main(argv: list[str] | None = None) -> int:
    return common.script_main("flash", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
