"""``bench/run``: set up one PostgreSQL, run the benchmark scripts, print a summary.

Sets up a throwaway cluster (or uses ``PAYMENTS_BENCH_DATABASE_URL``), migrates
a template database with ``runner.migrate.migrate``, initialises a pgbench
database, prints the machine facts, then runs each selected benchmark script as
its own process (each bounded by a timeout) and prints one table of figures,
baselines, ratios and targets. Exit status: 0 when every script ran and every
correctness check held (a missed performance target is reported, not fatal),
1 otherwise, 2 for bad options.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import common

BENCHMARKS = {
    "apply": ("bench.apply_throughput", "SQL apply throughput vs pgbench -N"),
    "webhook": ("bench.webhook_e2e", "webhook end to end (payments serve + loopback load generator)"),
    "reconcile": ("bench.reconciliation", "reconciliation clean check at 10k/100k/1M, repair rate"),
    "contention": ("bench.contention", "1,000 buyers racing for the last 100 seats"),
    "flash": ("bench.flash_sale", "flash sale: 10,000 buyers for 1,000 seats, then the settlement burst"),
    "sync": ("bench.sync_scale", "payments sync --once, 10k due orders, 150 ms Status API, by concurrency"),
    "client": ("bench.status_client", "CPU per Status API call: runner/transport.py vs httpx's own"),
}
TIMEOUT = {"apply": 600, "webhook": 900, "reconcile": 900, "contention": 300, "flash": 600, "sync": 1800,
           "client": 300}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Run the payments benchmarks on a throwaway PostgreSQL cluster "
                    "(or PAYMENTS_BENCH_DATABASE_URL) and print figures with their baseline ratios.",
        epilog="benchmarks: " + "; ".join(f"{k} = {v[1]}" for k, v in BENCHMARKS.items()))
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this benchmark (repeat or comma-separate): "
                             + ", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true",
                        help="scaled down (no 1M orders, shorter runs): a smoke test of a few minutes")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON here")
    args = parser.parse_args(argv)
    selected = [n.strip() for opt in (args.only or []) for n in opt.split(",") if n.strip()]
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    args.selected = selected or list(BENCHMARKS)
    return args


def summary(results: list[dict]) -> None:
    print("\n== summary " + "=" * 100)
    header = f"{'benchmark':<11} {'metric':<62} {'value':>12} {'unit':<9} {'ratio':>8}  {'target':<14} result"
    print(header)
    print("-" * len(header))
    for result in results:
        for row in result["rows"]:
            ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
            verdict = "" if row["met"] is None else "MET" if row["met"] else "MISSED"
            value = "" if row["unit"] == "check" else common.fmt(row["value"])
            print(f"{row['benchmark']:<11} {row['metric'][:62]:<62} {value:>12} "
                  f"{row['unit']:<9} {ratio:>8}  {(row['target'] or ''):<14} {verdict}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    server = common.provision_server()
    failures: list[str] = []
    results: list[dict] = []
    try:
        facts = common.machine_facts(server)
        print("== machine " + "=" * 60)
        for key, value in facts.items():
            print(f"  {key}: {value}")
        neighbours = common.busy_neighbours()
        print(f"  busy processes now (noise): {', '.join(neighbours) or 'none'}")
        print(f"  mode: {'--quick' if args.quick else 'full'}; benchmarks: {', '.join(args.selected)}",
              flush=True)
        common.prepare_databases(server)

        with tempfile.TemporaryDirectory(prefix="payments-bench-") as tmp:
            for name in args.selected:
                module, title = BENCHMARKS[name]
                print(f"\n== {name}: {title} " + "=" * 40, flush=True)
                result_file = Path(tmp) / f"{name}.json"
                cmd = [sys.executable, "-m", module, "--admin-url", server.admin_url,
                       "--result-file", str(result_file)] + (["--quick"] if args.quick else [])
                began = time.perf_counter()
                try:
                    proc = subprocess.run(cmd, cwd=common.ROOT, timeout=TIMEOUT[name],
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
                    code = proc.returncode
                except subprocess.TimeoutExpired:
                    code = -1
                    print(f"  {name}: stopped after {TIMEOUT[name]} s", flush=True)
                print(f"  ({name} took {time.perf_counter() - began:.0f} s)", flush=True)
                if result_file.exists():
                    results.append(json.loads(result_file.read_text()))
                if code != 0:
                    failures.append(f"{name} (exit {code})")
        summary(results)
        if args.json:
            args.json.write_text(json.dumps({"machine": facts, "quick": args.quick, "results": results},
                                            indent=2, default=str))
    finally:
        common.drop_databases(server)
        server.stop()
    print(f"\ntotal {time.perf_counter() - started:.0f} s; "
          + (f"FAILED: {', '.join(failures)}" if failures else "all benchmark scripts ran, checks held"))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
