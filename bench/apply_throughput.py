"""Benchmark 1 -- SQL apply throughput.

``payments.apply_gateway_status`` settlement calls per second at 8 concurrent
clients, each call settling a different pending ticket order, versus
``pgbench -N`` TPS on the same server with the same 8 clients. pgbench itself
drives both (a custom script with one statement per transaction, prepared
protocol, ``-j 2``), so the ratio compares server work, not client overhead.

Cases:

* spread -- consecutive calls settle orders on different slots (1,000 slots),
  so slot-row locks are not the bottleneck;
* one hot slot -- every order is on the same slot, so every settlement
  updates the same ``ticket_slots`` row and waits for the previous one.

A second baseline, the equivalent writes: a pgbench script performing exactly
the row writes of one settlement as plain SQL with no decisions (lock the
order, insert the ledger row and the ticket, mark the order paid, finalize the
item, move the slot's counters, append the log row), on the same tables and
indexes, over orders of its own. pgbench -N vs the equivalent writes is the
cost of the write set; the equivalent writes vs the function is the cost of
our logic.

The pgbench -N baseline is measured before and after the calls; the ratio uses
the mean. Targets: spread >= 0.5x pgbench -N and >= 0.8x the equivalent writes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench import common, fixtures
from bench.common import Context, Reporter, say

CLIENTS = 8
SLOTS = 1000


def apply_script(prefix: str, sequence: str) -> str:
    """One pgbench transaction: settle the next pending order, as the webhook does."""
    return (
        "WITH n AS (SELECT nextval('" + sequence + "') AS v)\n"
        "SELECT payments.apply_gateway_status('" + prefix + "-' || n.v, 'settlement', 'accept',\n"
        "    " + fixtures.ORDER_AMOUNT + "::numeric, 'TX-" + prefix + "-' || n.v, '200', 'webhook',\n"
        "    " + fixtures.payload_sql_literal() + ", NULL) FROM n;\n"
    )


def writes_script(prefix: str, sequence: str) -> str:
    """One pgbench transaction that performs exactly the row writes of one settlement of
    a pending one-ticket order, as plain SQL with no decisions: lock the order, insert the
    ledger row and the ticket, mark the order paid, finalize the item, move the slot's
    counters, append the decision's log row. The same tables, indexes, constraints and
    triggers as the function; what it does not do is decide anything."""
    payload = fixtures.payload_sql_literal()
    return (
        "SELECT nextval('" + sequence + "') AS n \\gset\n"
        "BEGIN;\n"
        "SELECT o.id AS oid, i.id AS iid, i.slot_id AS sid FROM payments.orders AS o"
        " JOIN payments.ticket_order_items AS i ON i.order_id = o.id"
        " WHERE o.order_number = '" + prefix + "-' || :n FOR UPDATE OF o \\gset\n"
        "INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
        " fraud_status, stage, gross_amount, refund_amount, midtrans_at, seen_paid)"
        " VALUES (:oid, 'TX-" + prefix + "-' || :n, 'settlement', 'accept', 22, " + fixtures.ORDER_AMOUNT
        + ", 0, now(), true);\n"
        "INSERT INTO payments.tickets (order_item_id, seq, code)"
        " VALUES (:iid, 1, upper(substr(md5(random()::text), 1, 16)));\n"
        "UPDATE payments.orders SET status = 'paid', paid_at = now(), tickets_issued_at = now(),"
        " updated_at = now() WHERE id = :oid;\n"
        "UPDATE payments.ticket_order_items SET finalized_quantity = quantity WHERE id = :iid;\n"
        "UPDATE payments.ticket_slots SET reserved = reserved - 1, sold = sold + 1, updated_at = now()"
        " WHERE id = :sid;\n"
        "INSERT INTO payments.webhook_logs (source, event_type, order_number, transaction_id,"
        " transaction_status, fraud_status, status_code, gross_amount, signature_valid, outcome, detail,"
        " payload)"
        " VALUES ('webhook', 'gateway_status', '" + prefix + "-' || :n, 'TX-" + prefix + "-' || :n,"
        " 'settlement', 'accept', '200', " + fixtures.ORDER_AMOUNT + ", true, 'paid',"
        " '{\"previous_status\": \"pending\", \"new_status\": \"paid\"}', " + payload + ");\n"
        "END;\n"
    )


def run_script(ctx: Context, dbname: str, url: str, prefix: str, per_client: int,
               make_script: Callable[[str, str], str], clients: int = CLIENTS) -> common.PgbenchResult:
    """pgbench with ``make_script(prefix, sequence)`` over the ``prefix`` orders, each client
    taking the next order from its own sequence; then every one of them must be paid."""
    sequence = f"bench_{prefix.lower()}_seq"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SEQUENCE IF NOT EXISTS public.{sequence}")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / f"{prefix}.sql"
        script.write_text(make_script(prefix, f"public.{sequence}"))
        script.chmod(0o644)
        result = common.pgbench(ctx.server, dbname,
                                ["-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
                                 "-t", str(per_client), "-f", str(script)], timeout=600)
    with psycopg.connect(url, autocommit=True) as conn:
        paid, pending = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'paid'), count(*) FILTER (WHERE status = 'pending')"
            "  FROM payments.orders WHERE order_number LIKE %s", (prefix + "-%",)).fetchone()
    if paid != clients * per_client or pending != 0 or result.failed:
        raise RuntimeError(f"{prefix}: {paid} paid, {pending} still pending, {result.failed} failed")
    return result


def run(ctx: Context, rep: Reporter) -> None:
    per_client = 1000 if ctx.quick else 4000
    hot_per_client = 500 if ctx.quick else 1500
    base_seconds = 5 if ctx.quick else 10
    history = 20_000 if ctx.quick else 100_000
    dbname = "payments_bench_apply"
    with ctx.database(dbname) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            fixtures.load_history(conn, history)
            first = fixtures.make_slots(conn, "SPREAD", SLOTS, 1_000_000)
            fixtures.make_pending_ticket_orders(conn, "BA", CLIENTS * per_client, first, SLOTS)
            fixtures.make_pending_ticket_orders(conn, "BE", CLIENTS * per_client, first, SLOTS)
            hot = fixtures.make_slots(conn, "HOT", 1, 1_000_000)
            fixtures.make_pending_ticket_orders(conn, "BH", CLIENTS * hot_per_client, hot, 1)
            fixtures.analyze(conn)
        say(f"  {history:,} orders of history, {CLIENTS * per_client} + {CLIENTS * hot_per_client} pending "
            f"orders loaded; "
            f"pgbench -N baseline, {CLIENTS} clients, {base_seconds}s")

        before = common.pgbench_baseline(ctx, clients=CLIENTS, seconds=base_seconds)
        machine_before = common.machine_ticks()
        writes = run_script(ctx, dbname, url, "BE", per_client, writes_script)
        spread = run_script(ctx, dbname, url, "BA", per_client, apply_script)
        busy = common.machine_busy(machine_before, common.machine_ticks())
        hot_result = run_script(ctx, dbname, url, "BH", hot_per_client, apply_script)
        after = common.pgbench_baseline(ctx, clients=CLIENTS, seconds=base_seconds)

        with psycopg.connect(url, autocommit=True) as conn:
            violations = conn.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0]

    baseline = (before.tps + after.tps) / 2
    rep.fact("pgbench_N_tps_before", before.tps)
    rep.fact("pgbench_N_tps_after", after.tps)
    rep.fact("apply_command", spread.command)
    rep.add("pgbench -N TPS (8 clients)", baseline, "tps",
            note=f"before {before.tps:,.0f}, after {after.tps:,.0f}")
    rep.add("apply_gateway_status settlements, spread over 1,000 slots", spread.tps, "calls/s",
            baseline="pgbench -N", baseline_value=baseline, ratio=spread.tps / baseline,
            target=">= 0.5x", met=spread.tps / baseline >= 0.5,
            note=f"{spread.transactions} calls, mean latency {spread.latency_ms:.2f} ms")
    rep.add("equivalent writes: one settlement's row writes as plain SQL, spread", writes.tps, "tps",
            baseline="pgbench -N", baseline_value=baseline, ratio=writes.tps / baseline,
            note=f"{writes.transactions} transactions of 9 statements; the cost of the write set")
    rep.add("settlements vs the equivalent writes", spread.tps, "calls/s",
            baseline="equivalent writes", baseline_value=writes.tps, ratio=spread.tps / writes.tps,
            target=">= 0.8x", met=spread.tps / writes.tps >= 0.8,
            note="the gap is the cost of the decisions (ledger, derive, reviews, log)")
    rep.add("apply_gateway_status settlements, one hot slot", hot_result.tps, "calls/s",
            baseline="pgbench -N", baseline_value=baseline, ratio=hot_result.tps / baseline,
            note=f"{hot_result.transactions} calls, mean latency {hot_result.latency_ms:.2f} ms")
    rep.add("one hot slot vs spread over 1,000 slots", hot_result.tps, "calls/s",
            baseline="spread", baseline_value=spread.tps, ratio=hot_result.tps / spread.tps,
            target=">= 0.6x", met=hot_result.tps / spread.tps >= 0.6,
            note="every settlement updates the same slot row")
    rep.fact("machine_busy_spread", round(busy * 100, 1))
    rep.add("machine CPU busy during the spread run (all cores, incl. other users)", busy * 100, "%")
    rep.add("check_invariants() violations afterwards", violations, "check", target="0",
            met=violations == 0)


def main(argv: list[str] | None = None) -> int:
    return common.script_main("apply", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
