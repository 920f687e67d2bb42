"""Benchmark 2 -- webhook end to end: HTTP -> signature -> SQL -> 200.

Runs the real ``payments serve`` (``--no-sync --no-reconcile``, default pool of
10 connections, its normal INFO log going to a file) against a fresh database
of pending ticket orders, and drives it from ``bench/loadgen.py`` in a separate
process on 127.0.0.1 with signed ``settlement`` notifications, each for a
different order. Configurations, one after the other on the same server:

* **confirmed** (the default): every notification would pay, so ``serve``
  confirms it with the Status API of the Midtrans simulator
  (``bench/simulator_serve.py``, its own process on loopback, preloaded with
  the settled transactions): two SQL calls and one HTTP call per notification;
* **confirmed, Status API 150 ms**: the same ``serve`` process, every Status
  API answer delayed 150 ms (a realistic Midtrans latency; the simulator's
  ``status_api`` fault without a count);
* **confirmed, 2 workers**: two ``serve`` processes on two ports, the load
  generator's connections spread over them (as a load balancer would);
* **unconfirmed** (``PAYMENTS_CONFIRM_WITH_STATUS_API=false``): one SQL call,
  the figures of earlier releases.

For each, except the 150 ms one:

1. closed loop, 16 keep-alive connections: the maximum sustained
   notifications/s and its p50 / p99 latency;
2. open loop at half that rate (fixed arrival schedule, 64 connections):
   p50 / p99 measured from when each notification was due;
3. the peak RSS (VmHWM) of each ``serve`` process afterwards.

With the Status API at 150 ms: the closed loop with 64 connections (more
than the 32 confirmations a process makes at once), the open loop at half
its rate, then an overload step at twice its rate for a few seconds (512
connections); 503 answers (no confirmation within PAYMENTS_CONFIRM_TIMEOUT,
Midtrans retries them) are counted, not fatal, and the longest wait is
reported against Midtrans' 15 s timeout.

Every other answer must be 200 with decision ``paid``; afterwards the orders
answered are paid, those confirmed rest on the Status API's answer and
``check_invariants()`` is clean.

Baseline: ``pgbench -N`` TPS with 8 clients on the same server, measured just
before. Targets: max rate >= 0.25x pgbench -N; p99 <= 50 ms at half rate
(<= 400 ms with the Status API at 150 ms); no wait past 15 s at any load
generated; <= 150 MB RSS per ``serve`` process.
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
from runner.settings import Settings
from tests.pgserver import free_port

SLOTS = 1000
CLOSED_CONNECTIONS = 16
OPEN_CONNECTIONS = 64
SLOW_DELAY = 0.150           # a realistic Midtrans Status API latency
SLOW_CONNECTIONS = 64        # closed loop with a slow Status API: more than the confirmation slots
SLOW_OPEN_CONNECTIONS = 512  # open loop with a slow Status API: Midtrans opens as many as it needs
# the steady open loop at half rate: enough connections for the 150 ms in flight, few enough that
# each is reused well within uvicorn's 5 s keep-alive (an idle one is closed by the server, and a
# request written on it reads nothing: IncompleteReadError, as in the first full run)
SLOW_STEADY_CONNECTIONS = 64
OVERLOAD = 2.0               # the overload step: this many times the maximum rate
SETTINGS_CONFIRM_CONCURRENCY = Settings().confirm_concurrency
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
def simulator(port: int, first: int, count: int, delay: float = 0.0, *, prefix: str = ORDER_PREFIX,
              pending: bool = False) -> Iterator[str]:
    """bench/simulator_serve.py with ``count`` settled (or ``pending``) transactions for the
    orders ``prefix``-``first`` onwards."""
    cmd = [sys.executable, "-m", "bench.simulator_serve", "--port", str(port), "--server-key",
           common.SERVER_KEY, "--prefix", prefix, "--first", str(first), "--count", str(count),
           "--delay", str(delay)] + (["--pending"] if pending else [])
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


def loadgen(ports: list[int], first: int, count: int, mode: str, *, connections: int, seconds: float = 0,
            rate: float | None = None, tolerate: frozenset[str] | set[str] = frozenset()) -> dict:
    """Run bench/loadgen.py; fail on any answer but 200 'paid' (or a status in ``tolerate``)."""
    cmd = [sys.executable, "-m", "bench.loadgen", "--port", ",".join(map(str, ports)),
           "--server-key", common.SERVER_KEY, "--prefix", ORDER_PREFIX, "--first", str(first),
           "--count", str(count), "--mode", mode,
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
    if set(result["errors"]) - set(tolerate):
        raise RuntimeError(f"loadgen saw errors: {result['errors']} first: {result['first_error']}")
    return result


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a process in MB, from /proc/PID/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmHWM", "VmRSS"))  # type: ignore[return-value]


@dataclass
class Phase:
    label: str
    peak: dict
    steady: dict
    cpu_serve: float
    cpu_pg: float
    busy: float
    answered: int
    memory: list[tuple[float, float]]   # (VmHWM, VmRSS) MB of each serve process, after the load
    workers: int = 1


@dataclass
class Slow:
    """The confirmed path with every Status API answer delayed (a realistic Midtrans latency)."""

    delay: float
    peak: dict
    steady: dict
    overload: dict
    answered: int


def measure(url: str, label: str, first: int, orders_left: int, seconds: float, log_path: Path,
            midtrans: str | None, workers: int = 1,
            slow: Callable[[list[int], int, int], Slow] | None = None) -> tuple[Phase, Slow | None]:
    """Warm up, then the closed loop (peak) and the open loop at half of it, against ``workers``
    serve processes (the load generator spreads its connections over them); then ``slow``
    (with the orders left) on the same processes, before their memory is read."""
    with contextlib.ExitStack() as stack:
        ports = [free_port() for _ in range(workers)]
        serves = [stack.enter_context(payments_serve(url, port, log_path.with_suffix(f".{i}.log"), midtrans))
                  for i, port in enumerate(ports)]
        pids = [serve.pid for serve in serves]
        used = first
        warm = loadgen(ports, used, 500, "closed", connections=8, seconds=30)
        used += warm["sent"]
        say(f"  [{label}] {workers} payments serve on 127.0.0.1:{','.join(map(str, ports))}; closed loop, "
            f"{CLOSED_CONNECTIONS} connections, {seconds}s")
        serve_before = common.cpu_seconds(pids)
        pg_before = common.cpu_seconds(backend_pids(url))
        machine_before = common.machine_ticks()
        peak = loadgen(ports, used, orders_left // 2, "closed", connections=CLOSED_CONNECTIONS,
                       seconds=seconds)
        busy = common.machine_busy(machine_before, common.machine_ticks())
        cpu_serve = common.cpu_used(serve_before, common.cpu_seconds(pids))
        cpu_pg = common.cpu_used(pg_before, common.cpu_seconds(backend_pids(url)))
        used += peak["sent"]
        half = peak["rate"] / 2
        count = min(int(half * seconds), first + orders_left - used)
        say(f"  [{label}] open loop at {half:,.0f}/s (half the peak), {count} notifications")
        steady = loadgen(ports, used, count, "open", connections=OPEN_CONNECTIONS, rate=half)
        used += steady["sent"]
        slowed = slow(ports, used, first + orders_left - used) if slow else None
        memory = [memory_mb(pid) for pid in pids]
    return (Phase(label, peak, steady, cpu_serve, cpu_pg, busy, warm["ok"] + peak["ok"] + steady["ok"],
                  memory, workers), slowed)


def measure_slow(midtrans: str, delay: float, seconds: float, overload_seconds: float,
                 ports: list[int], first: int, orders_left: int) -> Slow:
    """Every Status API answer delayed ``delay`` s: the closed loop with SLOW_CONNECTIONS (the
    maximum rate), the open loop at half of it, then OVERLOAD x the maximum rate for
    ``overload_seconds`` (503 answers counted, not fatal: Midtrans retries them)."""
    set_delay(midtrans, delay)
    try:
        used = first
        say(f"  [confirmed, Status API {delay * 1000:.0f} ms] closed loop, {SLOW_CONNECTIONS} connections, "
            f"{seconds}s")
        peak = loadgen(ports, used, orders_left // 3, "closed", connections=SLOW_CONNECTIONS, seconds=seconds,
                       tolerate={"503"})
        used += peak["sent"]
        peak["ok_rate"] = round(peak["ok"] / peak["seconds"], 1)
        half = peak["ok_rate"] / 2
        count = min(int(half * seconds), (first + orders_left - used) // 3)
        say(f"  [confirmed, Status API {delay * 1000:.0f} ms] open loop at {half:,.0f}/s, "
            f"{count} notifications")
        steady = loadgen(ports, used, count, "open", connections=SLOW_STEADY_CONNECTIONS, rate=half,
                         tolerate={"503"})
        used += steady["sent"]
        rate = peak["ok_rate"] * OVERLOAD
        count = min(int(rate * overload_seconds), first + orders_left - used)
        say(f"  [confirmed, Status API {delay * 1000:.0f} ms] overload: open loop at {rate:,.0f}/s "
            f"({OVERLOAD:g}x the max) for {count / rate:.1f}s, {SLOW_OPEN_CONNECTIONS} connections")
        overload = loadgen(ports, used, count, "open", connections=SLOW_OPEN_CONNECTIONS, rate=rate,
                           tolerate={"503", "unanswered"})
    finally:
        set_delay(midtrans, 0.0)
    return Slow(delay, peak, steady, overload, peak["ok"] + steady["ok"] + overload["ok"])


def set_delay(midtrans: str, delay: float) -> None:
    """Every Status API answer of the simulator waits ``delay`` s from now on (a fault without count)."""
    answer = httpx.post(f"{midtrans}/_sim/faults", json={"status_api": {"mode": "ok", "delay": delay}})
    answer.raise_for_status()


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
    for i, (hwm, rss) in enumerate(phase.memory):
        rep.add(f"{tag}peak RSS (VmHWM) of serve process {i + 1} of {phase.workers}", hwm, "MB",
                target="<= 150 MB", met=hwm <= 150, note=f"VmRSS {rss:.0f} MB after the load")
    rep.fact(f"{phase.label}_closed_loop", peak)
    rep.fact(f"{phase.label}_open_loop", steady)


def unavailable(result: dict) -> int:
    """How many notifications were answered 503 (no confirmation within PAYMENTS_CONFIRM_TIMEOUT)."""
    return result["errors"].get("503", 0)


def report_slow(rep: Reporter, slow: Slow, fast: Phase) -> None:
    peak, steady, over = slow.peak, slow.steady, slow.overload
    tag = f"[confirmed, Status API {slow.delay * 1000:.0f} ms] "
    rep.add(f"{tag}notifications/s paid at max load ({SLOW_CONNECTIONS} connections, closed loop)",
            peak["ok_rate"], "notif/s", baseline="Status API 0 ms", baseline_value=fast.peak["rate"],
            ratio=peak["ok_rate"] / fast.peak["rate"],
            note=f"p50 {peak['p50_ms']:.0f} / p99 {peak['p99_ms']:.0f} ms; {unavailable(peak)} answered 503; "
                 f"at most {SETTINGS_CONFIRM_CONCURRENCY} confirmations in flight per process")
    rep.add(f"{tag}latency p50 at half rate ({steady['target_rate']:,.0f}/s, open loop)", steady["p50_ms"],
            "ms", note=f"achieved {steady['rate']:,.0f}/s; {unavailable(steady)} answered 503")
    rep.add(f"{tag}latency p99 at half rate", steady["p99_ms"], "ms", baseline="Status API delay",
            baseline_value=slow.delay * 1000, ratio=steady["p99_ms"] / (slow.delay * 1000),
            target="<= 400 ms", met=steady["p99_ms"] <= 400)
    offered = over["sent"] / over["target_rate"]
    rep.add(f"{tag}overload {OVERLOAD:g}x max ({over['target_rate']:,.0f}/s for {offered:.1f}s): "
            "longest wait", over["max_ms"], "ms", baseline="Midtrans timeout", baseline_value=15_000,
            ratio=over["max_ms"] / 15_000, target="<= 15000 ms", met=over["max_ms"] <= 15_000,
            note=f"p50 {over['p50_ms']:.0f} / p99 {over['p99_ms']:.0f} ms; last answer "
                 f"{over['seconds']:.1f}s after the first was due; "
                 f"{over['ok']} paid, {unavailable(over)} answered 503 (Midtrans retries), "
                 f"{over['errors'].get('unanswered', 0)} unanswered after 60 s")
    longest = max(peak["max_ms"], steady["max_ms"], over["max_ms"])
    rep.add(f"{tag}longest wait at any load generated", longest, "ms", target="<= 15000 ms",
            met=longest <= 15_000)
    rep.fact("slow_closed_loop", peak)
    rep.fact("slow_open_loop", steady)
    rep.fact("slow_overload", over)


def run(ctx: Context, rep: Reporter) -> None:
    seconds = 6 if ctx.quick else 15
    overload_seconds = 3 if ctx.quick else 5
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

        # orders: 30% confirmed with one worker (then 10% with the Status API slowed down on the
        # same process), 20% confirmed with two workers (the simulator knows these 60%), 40% unconfirmed
        one, slowed, two = orders * 3 // 10, orders // 10, orders // 5
        known = one + slowed + two
        logs = Path(tmp)
        with simulator(free_port(), 1, known) as midtrans:
            confirmed, slow = measure(
                url, "confirmed", 1, one + slowed, seconds, logs / "confirmed.log", midtrans,
                slow=lambda ports, used, left: measure_slow(midtrans, SLOW_DELAY, seconds, overload_seconds,
                                                            ports, used, left))
            assert slow is not None
            two_workers, _ = measure(url, "confirmed, 2 workers", one + slowed + 1, two, seconds,
                                     logs / "two.log", midtrans, workers=2)
        unconfirmed, _ = measure(url, "unconfirmed", known + 1, orders - known, seconds,
                                 logs / "unconfirmed.log", None)
        serve_lines = sum(1 for path in logs.glob("*.log") for _ in path.open("rb"))

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
    report_slow(rep, slow, confirmed)
    report(rep, two_workers, baseline.tps)
    rep.add("2 serve workers vs 1, confirmed, notifications/s at max load", two_workers.peak["rate"],
            "notif/s", baseline="1 worker", baseline_value=confirmed.peak["rate"],
            ratio=two_workers.peak["rate"] / confirmed.peak["rate"], note=f"{os.cpu_count()} cores")
    report(rep, unconfirmed, baseline.tps)
    rep.add("confirmed vs unconfirmed notifications/s at max load", confirmed.peak["rate"], "notif/s",
            baseline="unconfirmed", baseline_value=unconfirmed.peak["rate"],
            ratio=confirmed.peak["rate"] / unconfirmed.peak["rate"])
    via_status_api = confirmed.answered + slow.answered + two_workers.answered
    expected = via_status_api + unconfirmed.answered
    rep.add("orders paid = notifications answered 200 'paid'", float(paid == expected == logged), "check",
            target="equal", met=paid == expected == logged, note=f"{paid} paid, {expected} answered, "
            f"{logged} logged")
    right = evidence.get("status_api", 0) == via_status_api \
        and evidence.get("notification", 0) == unconfirmed.answered
    rep.add("confirmed payments rest on the Status API's answer", float(right), "check", target="all",
            met=right, note=f"evidence {evidence}")
    rep.add("check_invariants() violations afterwards", violations, "check", target="0", met=violations == 0)


def main(argv: list[str] | None = None) -> int:
    return common.script_main("webhook", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
