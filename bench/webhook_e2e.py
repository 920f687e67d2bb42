"""Benchmark 2 -- webhook end to end: HTTP -> signature -> SQL -> 200.

Runs the real ``payments serve`` (``--no-sync --no-reconcile``, default pool of
10 connections, its normal INFO log going to a file) against a fresh database
of pending ticket orders, and drives it from ``bench/loadgen.py`` in a separate
process on 127.0.0.1 with signed ``settlement`` notifications, each for a
different order. Two configurations, one after the other on the same server:

* **confirmed** (the default): every notification would pay, so ``serve``
  confirms it with the Status API of the Midtrans simulator
  (``bench/simulator_serve.py``, its own process on loopback, preloaded with
  the settled transactions): two SQL calls and one HTTP call per notification;
* **unconfirmed** (``PAYMENTS_CONFIRM_WITH_STATUS_API=false``): one SQL call,
  the figures of earlier releases.

For each:

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float, what: str,
                 output: Callable[[], str]) -> None:
    """Poll ``url`` until it answers 200; fail with the process output if it exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}: {output()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become healthy in {timeout:.0f} s")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (graceful), then SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def simulator(port: int, first: int, count: int, delay: float = 0.0) -> Iterator[str]:
    """bench/simulator_serve.py with ``count`` settled transactions from order ``first``."""
    cmd = [sys.executable, "-m", "bench.simulator_serve", "--port", str(port), "--server-key",
           common.SERVER_KEY, "--prefix", ORDER_PREFIX, "--first", str(first), "--count", str(count),
           "--delay", str(delay)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, f"{base}/_sim/health", 120, "the simulator", lambda: proc.stdout.read())
        yield base
    finally:
        stop(proc)


@contextlib.contextmanager
def payments_serve(url: str, port: int, log_path: Path, midtrans: str | None) -> Iterator[subprocess.Popen]:
    """The real `payments serve` process; SIGTERM (graceful) at the end. Without
    ``midtrans`` (a Status API base URL) notifications are applied unconfirmed."""
    env = {**os.environ, "MIDTRANS_SERVER_KEY": common.SERVER_KEY, "PAYMENTS_DATABASE_URL": url,
           "PAYMENTS_HOST": "127.0.0.1", "PAYMENTS_PORT": str(port),
           "MIDTRANS_API_BASE_URL": midtrans or "http://127.0.0.1:9",
           "PAYMENTS_CONFIRM_WITH_STATUS_API": "true" if midtrans else "false"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "runner.cli", "serve", "--no-sync", "--no-reconcile"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}/healthz", 30, "payments serve", log_path.read_text)
        yield proc
    finally:
        stop(proc)


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


@dataclass
class Phase:
    label: str
    peak: dict
    steady: dict
    cpu_serve: float
    cpu_pg: float
    busy: float
    answered: int


def measure(url: str, label: str, first: int, orders_left: int, seconds: float, log_path: Path,
            midtrans: str | None) -> Phase:
    """Warm up, then the closed loop (peak) and the open loop at half of it."""
    port = free_port()
    with payments_serve(url, port, log_path, midtrans) as serve:
        used = first
        warm = loadgen(port, used, 500, "closed", connections=8, seconds=30)
        used += warm["sent"]
        say(f"  [{label}] payments serve on 127.0.0.1:{port}; closed loop, {CLOSED_CONNECTIONS} "
            f"connections, {seconds}s")
        serve_before = common.cpu_seconds([serve.pid])
        pg_before = common.cpu_seconds(backend_pids(url))
        machine_before = common.machine_ticks()
        peak = loadgen(port, used, orders_left // 2, "closed", connections=CLOSED_CONNECTIONS,
                       seconds=seconds)
        busy = common.machine_busy(machine_before, common.machine_ticks())
        cpu_serve = common.cpu_used(serve_before, common.cpu_seconds([serve.pid]))
        cpu_pg = common.cpu_used(pg_before, common.cpu_seconds(backend_pids(url)))
        used += peak["sent"]
        half = peak["rate"] / 2
        count = min(int(half * seconds), first + orders_left - used)
        say(f"  [{label}] open loop at {half:,.0f}/s (half the peak), {count} notifications")
        steady = loadgen(port, used, count, "open", connections=OPEN_CONNECTIONS, rate=half)
        used += steady["sent"]
    return Phase(label, peak, steady, cpu_serve, cpu_pg, busy, warm["ok"] + peak["ok"] + steady["ok"])


def report(rep: Reporter, phase: Phase, baseline_tps: float) -> None:
    peak, steady, tag = phase.peak, phase.steady, f"[{phase.label}] "
    ratio = peak["rate"] / baseline_tps
    rep.add(f"{tag}notifications/s at max load ({CLOSED_CONNECTIONS} connections, closed loop)",
            peak["rate"], "notif/s", baseline="pgbench -N", baseline_value=baseline_tps, ratio=ratio,
            target=">= 0.25x", met=ratio >= 0.25, note=f"{peak['sent']} in {peak['seconds']:.1f}s")
    per = 1000 / peak["sent"]
    rep.add(f"{tag}CPU per notification at max load: payments serve", phase.cpu_serve * per, "ms",
            note=f"{phase.cpu_serve / peak['seconds'] * 100:.0f}% of one core")
    rep.add(f"{tag}CPU per notification at max load: PostgreSQL backends", phase.cpu_pg * per, "ms",
            note=f"{phase.cpu_pg / peak['seconds'] * 100:.0f}% of one core")
    rep.add(f"{tag}CPU per notification at max load: load generator", peak["cpu_seconds"] * per, "ms",
            note=f"{peak['cpu_seconds'] / peak['seconds'] * 100:.0f}% of one core")
    rep.add(f"{tag}machine CPU busy during max load (all cores, incl. other users)", phase.busy * 100, "%",
            note=f"{os.cpu_count()} cores")
    rep.add(f"{tag}latency p50 at max load", peak["p50_ms"], "ms")
    rep.add(f"{tag}latency p99 at max load", peak["p99_ms"], "ms")
    rep.add(f"{tag}latency p50 at half rate ({steady['target_rate']:,.0f}/s, open loop)", steady["p50_ms"],
            "ms", note=f"achieved {steady['rate']:,.0f}/s")
    rep.add(f"{tag}latency p99 at half rate", steady["p99_ms"], "ms", target="<= 50 ms",
            met=steady["p99_ms"] <= 50)
    rep.fact(f"{phase.label}_closed_loop", peak)
    rep.fact(f"{phase.label}_open_loop", steady)


def run(ctx: Context, rep: Reporter) -> None:
    seconds = 6 if ctx.quick else 15
    orders = 40_000 if ctx.quick else 100_000
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

        # orders 1 .. half for the confirmed phase (the simulator knows them), the rest unconfirmed
        half = orders // 2
        log_path = Path(tmp) / "serve.log"
        with simulator(free_port(), 1, half) as midtrans:
            confirmed = measure(url, "confirmed", 1, half, seconds, log_path, midtrans)
        unconfirmed = measure(url, "unconfirmed", half + 1, orders - half, seconds, log_path, None)
        serve_lines = sum(1 for _ in log_path.open("rb"))

        with psycopg.connect(url, autocommit=True) as conn:
            paid = conn.execute("SELECT count(*) FROM payments.orders WHERE status = 'paid'"
                                " AND order_number LIKE %s", (ORDER_PREFIX + "-%",)).fetchone()[0]
            logged = conn.execute("SELECT count(*) FROM payments.webhook_logs"
                                  " WHERE source = 'webhook' AND outcome = 'paid'").fetchone()[0]
            evidence = dict(conn.execute(
                "SELECT detail ->> 'evidence', count(*) FROM payments.webhook_logs"
                " WHERE source = 'webhook' AND outcome = 'paid' GROUP BY 1").fetchall())
            violations = conn.execute("SELECT count(*) FROM payments.check_invariants()").fetchone()[0]

    rep.fact("serve_log_lines", serve_lines)
    report(rep, confirmed, baseline.tps)
    report(rep, unconfirmed, baseline.tps)
    rep.add("confirmed vs unconfirmed notifications/s at max load", confirmed.peak["rate"], "notif/s",
            baseline="unconfirmed", baseline_value=unconfirmed.peak["rate"],
            ratio=confirmed.peak["rate"] / unconfirmed.peak["rate"])
    expected = confirmed.answered + unconfirmed.answered
    rep.add("orders paid = notifications answered 200 'paid'", float(paid == expected == logged), "check",
            target="equal", met=paid == expected == logged, note=f"{paid} paid, {expected} answered, "
            f"{logged} logged")
    right = evidence.get("status_api", 0) == confirmed.answered \
        and evidence.get("notification", 0) == unconfirmed.answered
    rep.add("confirmed payments rest on the Status API's answer", float(right), "check", target="all",
            met=right, note=f"evidence {evidence}")
    rep.add("check_invariants() violations afterwards", violations, "check", target="0", met=violations == 0)


def main(argv: list[str] | None = None) -> int:
    return common.script_main("webhook", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
