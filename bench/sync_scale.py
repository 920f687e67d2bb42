"""Benchmark 5 -- sync at scale: 10,000 due pending orders against a 150 ms Status API.

A fresh database with 10,000 pending ticket orders (``SY-1 .. SY-10000``,
bulk-loaded like bench/fixtures.py, created an hour ago so they are past
``PAYMENTS_SYNC_MIN_AGE`` and never checked, i.e. due), and the Midtrans
simulator (``bench/simulator_serve.py --pending``, its own process on
loopback) preloaded in memory with one pending transaction for each (the
cheapest way to make 10,000: no HTTP call per transaction). The Status API's
latency is the simulator's ``status_api`` fault ``{"mode": "ok", "delay": D}``
with ``count`` null, which delays every call, switched through the control API
(``POST /_sim/faults``) between runs.

For each ``PAYMENTS_HTTP_CONCURRENCY`` value (8 -- the default --, 32, 64,
128) the real ``payments sync --once`` runs twice, as its own process, with
``PAYMENTS_SYNC_BATCH`` raised to the number of orders (the default batch of
200 would check 200 per run): once with a 0 ms Status API (the baseline) and
once with 150 ms. Rate = orders checked / the run's own duration
(``payments.runs``: finished_at - started_at). Between runs every order is made
due again (``gateway_checked_at`` reset, VACUUM), outside the timing; a warm-up
run first records the pending answers once, so every measured run does the same
work (one Status API call, one apply_gateway_status that changes nothing).

From the rates: the per-order latency at the default concurrency (Little's
law, concurrency / rate), the concurrency needed to check all the orders within
one default sync interval (``PAYMENTS_SYNC_INTERVAL``, 60 s): rate needed x
latency, whether the best measured rate reaches the rate needed, and whether
the default settings achieve it.

Correctness (fatal): every measured run is ok, with due = checked = the number
of orders, every order answered exactly once (``runs.answered`` has each order
once), none failed or not found, the process exited 0. --quick: 2,000 orders,
concurrency 8 and 64.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from bench import common, fixtures
from bench.common import ROOT, Context, Reporter, say
from bench.webhook_e2e import simulator
from runner.settings import Settings
from tests.pgserver import free_port

PREFIX = "SY"
SLOTS = 100
LATENCY = 0.150        # seconds: a realistic Midtrans Status API answer
DEFAULTS = Settings()  # what an operator gets without configuring anything


def set_latency(base: str, seconds: float) -> None:
    """Every Status API answer waits ``seconds`` (count null: all of them, not the next N)."""
    answer = httpx.post(f"{base}/_sim/faults", timeout=10,
                        json={"status_api": {"mode": "ok", "count": None, "delay": seconds}})
    answer.raise_for_status()
    got = answer.json()["status_api"]
    if got != {"mode": "ok", "count": None, "delay": seconds}:
        raise RuntimeError(f"the simulator did not take the latency: {got}")


def make_due(url: str) -> None:
    """Every benchmark order due again (never checked), and the table as autovacuum would leave it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE payments.orders SET gateway_checked_at = NULL WHERE order_number LIKE %s",
                     (PREFIX + "-%",))
        conn.execute("VACUUM (ANALYZE) payments.orders")
        conn.execute("VACUUM (ANALYZE) payments.runs")


def sync_once(url: str, midtrans: str, concurrency: int, batch: int, log_path: Path) -> dict:
    """``payments sync --once`` as its own process; the run's row from payments.runs."""
    env = {**os.environ, "PAYMENTS_DATABASE_URL": url, "MIDTRANS_SERVER_KEY": common.SERVER_KEY,
           "MIDTRANS_API_BASE_URL": midtrans, "PAYMENTS_HTTP_CONCURRENCY": str(concurrency),
           "PAYMENTS_SYNC_BATCH": str(batch)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.run([sys.executable, "-m", "runner.cli", "sync", "--once", "--json"], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT, timeout=600)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT id, ok, error, due, checked, failed, not_found, cardinality(answered),"
            "       (SELECT count(DISTINCT a) FROM unnest(answered) AS a),"
            "       extract(epoch FROM finished_at - started_at)::float8"
            "  FROM payments.runs WHERE kind = 'sync' ORDER BY id DESC LIMIT 1").fetchone()
    keys = ("run_id", "ok", "error", "due", "checked", "failed", "not_found", "answered", "distinct",
            "seconds")
    run = dict(zip(keys, row, strict=True))
    run.update(exit=proc.returncode, wall=wall, concurrency=concurrency,
               cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
    if proc.returncode != 0 or not run["ok"]:
        run["log_tail"] = log_path.read_text(errors="replace")[-1500:]
    run["rate"] = run["checked"] / run["seconds"] if run["seconds"] else 0.0
    return run


def exact(run: dict, orders: int) -> bool:
    """Every order checked exactly once, none failed, the run ok, the process happy."""
    return (run["exit"] == 0 and run["ok"] is True and run["due"] == run["checked"] == orders
            and run["answered"] == run["distinct"] == orders and run["failed"] == 0
            and run["not_found"] == 0)


def describe(run: dict) -> str:
    return (f"run {run['run_id']}: {run['checked']:,} checked in {run['seconds']:.2f} s, "
            f"process {run['wall']:.1f} s wall, {run['cpu']:.1f} s CPU")


def run(ctx: Context, rep: Reporter) -> None:
    orders = 2_000 if ctx.quick else 10_000
    levels = [8, 64] if ctx.quick else [8, 32, 64, 128]
    default_c, interval = DEFAULTS.http_concurrency, DEFAULTS.sync_interval
    if default_c not in levels:
        levels.insert(0, default_c)
    rep.fact("orders", orders)
    rep.fact("defaults", {"http_concurrency": default_c, "sync_interval": interval,
                          "sync_batch": DEFAULTS.sync_batch, "sync_min_age": DEFAULTS.sync_min_age})
    with ctx.database("payments_bench_sync") as url, tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(url, autocommit=True) as conn:
            first = fixtures.make_slots(conn, "SYNC", SLOTS, 1_000_000)
            fixtures.make_pending_ticket_orders(conn, PREFIX, orders, first, SLOTS)
            # created an hour ago: past PAYMENTS_SYNC_MIN_AGE, so due for the default sync
            conn.execute("UPDATE payments.orders SET created_at = now() - interval '1 hour'"
                         " WHERE order_number LIKE %s", (PREFIX + "-%",))
            fixtures.analyze(conn)
        log_path = Path(tmp) / "sync.log"
        with simulator(free_port(), 1, orders, prefix=PREFIX, pending=True) as midtrans:
            say(f"  {orders:,} due pending orders, {orders:,} pending simulator transactions; "
                f"warm-up sync (0 ms, concurrency 64)")
            set_latency(midtrans, 0.0)
            warm = sync_once(url, midtrans, 64, orders, log_path)
            say(f"  warm-up: {describe(warm)}")
            if not exact(warm, orders):
                raise RuntimeError(f"the warm-up sync did not check every order once: {warm}")
            results: dict[tuple[int, float], dict] = {}
            for concurrency in levels:
                for latency in (0.0, LATENCY):
                    make_due(url)
                    set_latency(midtrans, latency)
                    result = sync_once(url, midtrans, concurrency, orders, log_path)
                    results[concurrency, latency] = result
                    say(f"  concurrency {concurrency}, Status API {latency * 1000:.0f} ms: "
                        f"{result['rate']:,.0f} orders/s ({describe(result)})")
                    if "log_tail" in result:
                        say(f"    sync output: {result['log_tail']}")
            set_latency(midtrans, 0.0)

    for (concurrency, latency), result in results.items():
        rep.fact(f"run_c{concurrency}_{latency * 1000:.0f}ms",
                 {k: v for k, v in result.items() if k != "log_tail"})
    for concurrency in levels:
        slow, fast = results[concurrency, LATENCY], results[concurrency, 0.0]
        ideal = concurrency / LATENCY
        rep.add(f"concurrency {concurrency}: orders checked/s, 150 ms Status API", slow["rate"], "orders/s",
                baseline="same, 0 ms", baseline_value=fast["rate"], ratio=slow["rate"] / fast["rate"],
                note=f"{orders:,} in {slow['seconds']:.1f} s; latency-bound ceiling c/150ms = {ideal:,.0f}/s"
                     f" ({slow['rate'] / ideal * 100:.0f}% of it); runner CPU {slow['cpu']:.1f} s")

    # Little's law at the default concurrency: latency per order = concurrency / rate
    base = results[default_c, LATENCY]
    per_order = default_c / base["rate"]
    needed_rate = orders / interval
    needed_c = math.ceil(needed_rate * per_order)
    best = max(levels, key=lambda c: results[c, LATENCY]["rate"])
    rep.add(f"time per order in flight at concurrency {default_c} (Little: c / rate)", per_order * 1000, "ms",
            note=f"Status API {LATENCY * 1000:.0f} ms + the rest")
    rep.add(f"concurrency needed for {orders:,} orders in one {interval:.0f} s sync interval",
            float(needed_c), "in flight", target=f"<= default {default_c}", met=needed_c <= default_c,
            note=f"{needed_rate:,.0f} orders/s needed x {per_order * 1000:.0f} ms; best measured "
                 f"{results[best, LATENCY]['rate']:,.0f}/s at {best}")
    best_rate = results[best, LATENCY]["rate"]
    rep.add(f"best measured rate (concurrency {best}, 150 ms) vs the rate one interval needs", best_rate,
            "orders/s", baseline=f"{orders:,} / {interval:.0f} s", baseline_value=needed_rate,
            ratio=best_rate / needed_rate, target=">= 1x", met=best_rate >= needed_rate,
            note="more concurrency cannot help beyond the 0 ms rate at the same concurrency: "
                 f"{results[best, 0.0]['rate']:,.0f}/s")
    default_time = orders / base["rate"]
    rep.add(f"default settings (concurrency {default_c}): time to check {orders:,} due orders",
            default_time, "s", target=f"<= {interval:.0f} s", met=default_time <= interval,
            note=f"and PAYMENTS_SYNC_BATCH={DEFAULTS.sync_batch} lets one run check only "
                 f"{DEFAULTS.sync_batch}: {math.ceil(orders / DEFAULTS.sync_batch)} intervals for all")
    wrong = {f"c{c}_{lat * 1000:.0f}ms": {k: r[k] for k in ("ok", "due", "checked", "answered", "distinct",
                                                              "failed", "not_found", "exit", "error")}
             for (c, lat), r in results.items() if not exact(r, orders)}
    rep.add("every run: each order checked exactly once, none failed, run ok", float(not wrong), "check",
            target="all runs", met=not wrong,
            note=f"{len(results)} runs x {orders:,} orders"
                 + (f"; wrong: {json.dumps(wrong, default=str)}" if wrong else ""))


def main(argv: list[str] | None = None) -> int:
    return common.script_main("sync", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
