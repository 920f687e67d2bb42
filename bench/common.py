"""Shared plumbing for the benchmark scripts.

* Which PostgreSQL: ``PAYMENTS_BENCH_DATABASE_URL`` (a server where that user
  may CREATE DATABASE and, for the bulk loads, write the payments tables
  directly: a superuser is simplest), else a throwaway cluster from the local
  PostgreSQL binaries (``tests.pgserver.start_local_cluster``: fsync off,
  synchronous_commit off, 127.0.0.1 only), stopped and removed at the end.
* One migrated template database (``runner.migrate.migrate``); every benchmark
  clones its own database from it and drops it afterwards.
* One pgbench database (``pgbench -i``), the baseline every ratio refers to.
* A :class:`Reporter` that prints each figure with its baseline and ratio and
  writes them as JSON for ``bench/run``'s summary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/x.py` as well as `python -m bench.x`
    sys.path.insert(0, str(ROOT))

from runner.migrate import migrate  # noqa: E402
from tests.pgserver import Server, start_local_cluster, wait_until_ready  # noqa: E402

TEMPLATE_DB = "payments_bench_template"
PGBENCH_DB = "payments_bench_pgbench"
PGBENCH_SCALE = 10
SERVER_KEY = "SB-Mid-server-bench-key"   # signs the benchmark's notifications; not a real key


# -- the server ----------------------------------------------------------------

def pg_bin_dir() -> Path:
    """Where pgbench (and initdb / pg_ctl for a throwaway cluster) live."""
    override = os.environ.get("PAYMENTS_BENCH_PG_BIN")
    if override:
        return Path(override)
    found = []
    for pg_ctl in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"):
        version = pg_ctl.parent.parent.name
        if version.isdigit() and int(version) >= 15:
            found.append((int(version), pg_ctl.parent))
    if found:
        return max(found)[1]
    which = shutil.which("pgbench")
    if which:
        return Path(which).parent
    raise SystemExit("no PostgreSQL binaries found (set PAYMENTS_BENCH_PG_BIN)")


def provision_server() -> Server:
    url = os.environ.get("PAYMENTS_BENCH_DATABASE_URL")
    if url:
        server = Server(admin_url=url, kind="PAYMENTS_BENCH_DATABASE_URL")
    else:
        server = start_local_cluster(pg_bin_dir())
    wait_until_ready(server)
    return server


def prepare_databases(server: Server) -> None:
    """The migrated template and the pgbench database (``pgbench -i``)."""
    server.drop_database(TEMPLATE_DB)
    migrate(server.create_database(TEMPLATE_DB))
    server.drop_database(PGBENCH_DB)
    server.create_database(PGBENCH_DB)
    subprocess.run([str(pg_bin_dir() / "pgbench"), "-i", "-q", "-s", str(PGBENCH_SCALE), PGBENCH_DB],
                   env={**os.environ, **server.conninfo}, check=True, capture_output=True, timeout=300)


def drop_databases(server: Server) -> None:
    for name in (TEMPLATE_DB, PGBENCH_DB):
        with contextlib.suppress(psycopg.Error):
            server.drop_database(name)


# -- pgbench -------------------------------------------------------------------

@dataclass
class PgbenchResult:
    tps: float
    latency_ms: float
    transactions: int
    failed: int
    seconds: float
    command: str


def pgbench(server: Server, dbname: str, args: Sequence[str], timeout: float = 300) -> PgbenchResult:
    """Run pgbench against ``dbname`` (``-n``: no vacuum) and parse its summary."""
    cmd = [str(pg_bin_dir() / "pgbench"), "-n", *args, dbname]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env={**os.environ, **server.conninfo}, capture_output=True, text=True,
                          timeout=timeout)
    elapsed = time.perf_counter() - started
    out = proc.stdout + proc.stderr
    if proc.returncode != 0 or "aborted" in out:
        raise RuntimeError(f"pgbench failed ({proc.returncode}): {' '.join(cmd)}\n{out[-2000:]}")

    def number(pattern: str, default: float | None = None) -> float:
        match = re.search(pattern, out)
        if match:
            return float(match.group(1))
        if default is None:
            raise RuntimeError(f"cannot find {pattern!r} in pgbench output:\n{out[-2000:]}")
        return default

    return PgbenchResult(
        tps=number(r"tps = ([0-9.]+) \(without initial connection time\)"),
        latency_ms=number(r"latency average = ([0-9.]+) ms"),
        transactions=int(number(r"number of transactions actually processed: (\d+)")),
        failed=int(number(r"number of failed transactions: (\d+)", 0)),
        seconds=elapsed,
        command="pgbench -n " + " ".join(args),
    )


def pgbench_baseline(ctx: Context, *, clients: int, seconds: int, select_only: bool = False) -> PgbenchResult:
    """``pgbench -N`` (or ``-S``) on the pgbench database, prepared protocol."""
    mode = "-S" if select_only else "-N"
    return pgbench(ctx.server, PGBENCH_DB,
                   [mode, "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
                    "-T", str(seconds)], timeout=seconds + 120)


# -- machine facts -------------------------------------------------------------

def _meminfo_total_gib() -> float | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_facts(server: Server) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _meminfo_total_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "server_kind": server.kind,
    }
    with server.admin() as conn:
        facts["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        for name in ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers",
                     "max_connections", "jit"):
            facts[name] = conn.execute(f"SHOW {name}").fetchone()[0]
    facts["pgbench"] = subprocess.run([str(pg_bin_dir() / "pgbench"), "--version"], capture_output=True,
                                      text=True).stdout.strip()
    return facts


def busy_neighbours() -> list[str]:
    """Other processes using CPU right now (other engineers' test suites): noise to report."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["ps", "-eo", "pid=,pcpu=,comm="], capture_output=True, text=True,
                             timeout=5).stdout
        mine = {os.getpid(), os.getppid()}
        busy = []
        for line in out.splitlines():
            pid, pcpu, comm = line.split(None, 2)
            if int(pid) not in mine and float(pcpu) >= 20.0:
                busy.append(f"{comm.strip()}({pid}) {pcpu}%")
        return busy
    return []


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each of these processes (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat)."""
    with contextlib.suppress(OSError, ValueError):
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values) - idle, sum(values)
    return 0, 0


def machine_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Share of all cores busy between two machine_ticks() readings, 0..1."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two cpu_seconds() readings (processes new in `after` count whole)."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


# -- results -------------------------------------------------------------------

@dataclass
class Row:
    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    note: str | None = None


@dataclass
class Reporter:
    benchmark: str
    rows: list[Row] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, metric: str, value: float, unit: str, *, baseline: str | None = None,
            baseline_value: float | None = None, ratio: float | None = None, target: str | None = None,
            met: bool | None = None, note: str | None = None) -> Row:
        row = Row(self.benchmark, metric, value, unit, baseline, baseline_value, ratio, target, met, note)
        self.rows.append(row)
        line = f"  {metric}: {fmt(value)} {unit}" if unit != "check" else f"  {metric}"
        if baseline is not None and baseline_value is not None:
            line += f"  | baseline {baseline}: {fmt(baseline_value)}"
        if ratio is not None:
            line += f"  | ratio {ratio:.2f}x"
        if target is not None:
            line += f"  | target {target}: {'MET' if met else 'MISSED' if met is False else 'n/a'}"
        if note:
            line += f"  ({note})"
        print(line, flush=True)
        return row

    def fact(self, key: str, value: Any) -> None:
        self.facts[key] = value

    def write(self, path: Path | None) -> None:
        if path is not None:
            path.write_text(json.dumps({"benchmark": self.benchmark, "facts": self.facts,
                                        "rows": [asdict(r) for r in self.rows]}, indent=2, default=str))


def fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1 or value == 0:
        return f"{value:.2f}"
    return f"{value:.3f}"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def say(text: str) -> None:
    print(text, flush=True)


# -- a benchmark script --------------------------------------------------------

@dataclass
class Context:
    server: Server
    quick: bool

    @contextlib.contextmanager
    def database(self, name: str) -> Iterator[str]:
        """A fresh database cloned from the migrated template; dropped afterwards."""
        self.server.drop_database(name)
        url = self.server.create_database(name, template=TEMPLATE_DB)
        try:
            yield url
        finally:
            with contextlib.suppress(psycopg.Error):
                self.server.drop_database(name)


def script_main(benchmark: str, doc: str | None, run: Callable[[Context, Reporter], None],
                argv: Sequence[str] | None = None) -> int:
    """Entry point of one benchmark script.

    Under ``bench/run`` it gets ``--admin-url`` (server, template and pgbench
    databases ready); run on its own it provisions them itself."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    parser.add_argument("--admin-url", help="server prepared by bench/run (template + pgbench databases)")
    parser.add_argument("--quick", action="store_true", help="scaled-down smoke run")
    parser.add_argument("--result-file", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    own = args.admin_url is None
    if own:
        server = provision_server()
        print(f"machine: {json.dumps(machine_facts(server))}", flush=True)
        prepare_databases(server)
    else:
        server = Server(admin_url=args.admin_url, kind="bench/run")
    reporter = Reporter(benchmark)
    reporter.fact("loadavg_1m_start", round(os.getloadavg()[0], 2))
    reporter.fact("busy_neighbours_start", busy_neighbours())
    started = time.perf_counter()
    try:
        run(Context(server=server, quick=args.quick), reporter)
        reporter.fact("seconds", round(time.perf_counter() - started, 1))
        reporter.fact("loadavg_1m_end", round(os.getloadavg()[0], 2))
        reporter.write(args.result_file)
        failed = [r for r in reporter.rows if r.met is False and r.unit == "check"]
        return 1 if failed else 0
    finally:
        if own:
            drop_databases(server)
            server.stop()
