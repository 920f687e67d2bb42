"""Benchmark 2 -- webhook end to end: HTTP -> signature -> SQL -> 200.

Runs the real ``payments serve`` (``--no-sync --no-reconcile``, default pool of
10 connections, its normal INFO log going to a file) against a fresh database
of pending ticket orders, and drives it from ``bench/loadgen.py`` in a separate
process on 127.0.0.1 with signed ``settlement`` notifications, each for a
different order:

1. closed loop, 16 keep-alive connections: the maximum sustained
   notifications/s and its p50 / p99 latency;
2. open loop at half that rate (fixed arrival schedule, 64 connections):
   p50 / p99 measured from when each notification was due.

Every answer must be 200 with decision ``paid``; afterwards the orders answered
are paid and ``check_invariants()`` is clean.

Baseline: ``pgbench -N`` TPS with 8 clients on the same server, measured just
before. Targets: max rate >= 0.25x pgbench -N; p99 <= 50 ms at half rate.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

from bench import common, fixtures
from bench.common import ROOT, Context, Reporter, say
from tests.pgserver import free_port

SLOTS = 1000
CLOSED_CONNECTIONS = 16
OPEN_CONNECTIONS = 64
ORDER_PREFIX = "WH"


@contextlib.contextmanager
def payments_serve(url: str, port: int, log_path: Path) -> Iterator[subprocess.Popen]:
    """The real `payments serve` process; SIGTERM (graceful) at the end."""
    env = {**os.environ, "MIDTRANS_SERVER_KEY": common.SERVER_KEY, "PAYMENTS_DATABASE_URL": url,
           "PAYMENTS_HOST": "127.0.0.1", "PAYMENTS_PORT": str(port),
           "MIDTRANS_API_BASE_URL": "http://127.0.0.1:9"}   # never called: sync / reconcile are off
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "runner.cli", "serve", "--no-sync", "--no-reconcile"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"payments serve exited {proc.returncode}: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("payments serve did not become healthy in 30 s")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def backend_pids(url: str) -> list[int]:
    """PostgreSQL backends of `payments serve`'s pool (application_name payments-runner)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'payments-runner'")]


def loadgen(port: int, first: int, count: int, mode: str, *, connections: int, seconds: float = 0,
            rate: float | None = None) -> dict:
    cmd = [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--server-key", common.SERVER_KEY,
           "--prefix", ORDER_PREFIX, "--first", str(first), "--count", str(count), "--mode", mode,
           "--connections", str(connections)]
    if mode == "closed":
        cmd += ["--seconds", str(seconds)]
    else:
        cmd += ["--rate", f"{rate:.1f}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=(seconds or count / (rate or 1)) + 120)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"loadgen saw errors: {result['errors']} first: {result['first_error']}")
    return result


def run(ctx: Context, rep: Reporter) -> None:
    seconds = 6 if ctx.quick else 15
    orders = 25_000 if ctx.quick else 70_000
    history = 20_000 if ctx.quick else 100_000
    with ctx.database("payments_bench_webhook") as url, tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(url, autocommit=True) as conn:
            fixtures.load_history(conn, history)
            first = fixtures.make_slots(conn, "WEB", SLOTS, 1_000_000)
            fixtures.make_pending_ticket_orders(conn, ORDER_PREFIX, orders, first, SLOTS)
            fixtures.analyze(conn)
        say(f"  {history:,} orders of history, {orders:,} pending orders loaded; "
            f"pgbench -N baseline, 8 clients, {seconds}s")
        baseline = common.pgbench_baseline(ctx, clients=8, seconds=seconds)
        rep.add("pgbench -N TPS (8 clients)", baseline.tps, "tps")

        port = free_port()
        log_path = Path(tmp) / "serve.log"
        with payments_serve(url, port, log_path) as serve:
            used = 1
            warm = loadgen(port, used, 500, "closed", connections=8, seconds=30)
            used += warm["sent"]
            say(f"  payments serve on 127.0.0.1:{port}; closed loop, {CLOSED_CONNECTIONS} connections, "
                f"{seconds}s")
            serve_before = common.cpu_seconds([serve.pid])
            pg_before = common.cpu_seconds(backend_pids(url))
            machine_before = common.machine_ticks()
            peak = loadgen(port, used, orders // 2, "closed", connections=CLOSED_CONNECTIONS,
                           seconds=seconds)
            busy = common.machine_busy(machine_before, common.machine_ticks())
            cpu_serve = common.cpu_used(serve_before, common.cpu_seconds([serve.pid]))
            cpu_pg = common.cpu_used(pg_before, common.cpu_seconds(backend_pids(url)))
            used += peak["sent"]
            half = peak["rate"] / 2
            count = min(int(half * seconds), orders - used)
            say(f"  open loop at {half:,.0f}/s (half the peak), {count} notifications")
            steady = loadgen(port, used, count, "open", connections=OPEN_CONNECTIONS, rate=half)
            used += steady["sent"]
        serve_lines = sum(1 for _ in log_path.open("rb"))

        with psycopg.connect(url, autocommit=True) as conn:
            paid = conn.execute("SELECT count(*) FROM payments.orders WHERE status = 'paid'"
                                " AND order_number LIKE %s", (ORDER_PREFIX + "-%",)).fetchone()[0]
            logged = conn.execute("SELECT count(*) FROM payments.webhook_logs"
                                  " WHERE source = 'webhook' AND outcome = 'paid'").fetchone()[0]
            violations = conn.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0]

    rep.fact("closed_loop", peak)
    rep.fact("open_loop", steady)
    rep.fact("serve_log_lines", serve_lines)
    ratio = peak["rate"] / baseline.tps
    rep.add(f"notifications/s at max load ({CLOSED_CONNECTIONS} connections, closed loop)", peak["rate"],
            "notif/s", baseline="pgbench -N", baseline_value=baseline.tps, ratio=ratio,
            target=">= 0.25x", met=ratio >= 0.25, note=f"{peak['sent']} in {peak['seconds']:.1f}s")
    per = 1000 / peak["sent"]
    rep.add("CPU per notification at max load: payments serve", cpu_serve * per, "ms",
            note=f"{cpu_serve / peak['seconds'] * 100:.0f}% of one core")
    rep.add("CPU per notification at max load: PostgreSQL backends", cpu_pg * per, "ms",
            note=f"{cpu_pg / peak['seconds'] * 100:.0f}% of one core")
    rep.add("CPU per notification at max load: load generator", peak["cpu_seconds"] * per, "ms",
            note=f"{peak['cpu_seconds'] / peak['seconds'] * 100:.0f}% of one core")
    rep.add("machine CPU busy during max load (all cores, incl. other users)", busy * 100, "%",
            note=f"{os.cpu_count()} cores")
    rep.add("latency p50 at max load", peak["p50_ms"], "ms")
    rep.add("latency p99 at max load", peak["p99_ms"], "ms")
    rep.add(f"latency p50 at half rate ({steady['target_rate']:,.0f}/s, open loop)", steady["p50_ms"], "ms",
            note=f"achieved {steady['rate']:,.0f}/s")
    rep.add("latency p99 at half rate", steady["p99_ms"], "ms", target="<= 50 ms",
            met=steady["p99_ms"] <= 50)
    expected = warm["ok"] + peak["ok"] + steady["ok"]
    rep.add("orders paid = notifications answered 200 'paid'", float(paid == expected == logged), "check",
            target="equal", met=paid == expected == logged, note=f"{paid} paid, {expected} answered, "
            f"{logged} logged")
    rep.add("check_invariants() violations afterwards", violations, "check", target="0", met=violations == 0)


def main(argv: list[str] | None = None) -> int:
    return common.script_main("webhook", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
