"""Benchmark 7 -- the Status API call: CPU per call of the runner's client.

Every confirmed notification and every order a sync checks is one Status API
GET. This measures the CPU the calling process spends per call
(``time.process_time``) through ``runner.midtrans.MidtransClient`` against
the Midtrans simulator in its own process on loopback
(``bench/simulator_serve.py``, answering at once), with 1, 16 and 64 calls in
flight, for the client's transport (``runner/transport.py``) and, as the
baseline in the same process, httpx's own transport (httpcore's pool, what
the client used before). Each configuration: a warm-up, then 3,000 calls
(1,000 under ``--quick``); every answer must be the settled transaction.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from bench import common
from bench.common import Context, Reporter, say
from bench.webhook_e2e import ORDER_PREFIX, simulator
from runner.midtrans import Found, MidtransClient
from tests.pgserver import free_port

IN_FLIGHT = (1, 16, 64)


async def cpu_per_call(base: str, transport: httpx.AsyncBaseTransport | None, in_flight: int,
                       calls: int, known: int) -> tuple[float, float]:
    """(ms of this process's CPU per call, calls/s) for ``calls`` status calls."""
    async with MidtransClient(base, common.SERVER_KEY, timeout=30, retries=0, transport=transport) as client:
        slots = asyncio.Semaphore(in_flight)
        wrong: list[str] = []

        async def one(n: int) -> None:
            async with slots:
                order_id = f"{ORDER_PREFIX}-{1 + n % known}"
                answer = await client.status(order_id)
                if not isinstance(answer, Found) or answer.body.get("transaction_status") != "settlement":
                    wrong.append(order_id)

        await asyncio.gather(*(one(n) for n in range(max(200, in_flight * 4))))   # warm-up: connections
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(calls)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if wrong:
            raise AssertionError(f"{len(wrong)} answers were not the settled transaction, e.g. {wrong[0]}")
        return cpu / calls * 1000, calls / wall


def run(ctx: Context, rep: Reporter) -> None:
    calls = 1_000 if ctx.quick else 3_000
    known = 5_000
    with simulator(free_port(), 1, known) as midtrans:
        say(f"  simulator on {midtrans}; {calls:,} Status API calls per configuration")
        for in_flight in IN_FLIGHT:
            # httpx's own transport first, then the client's: the same process, the same simulator
            own_ms, own_rate = asyncio.run(cpu_per_call(
                midtrans, httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=64)), in_flight,
                calls, known))
            lean_ms, lean_rate = asyncio.run(cpu_per_call(midtrans, None, in_flight, calls, known))
            rep.add(f"CPU per Status API call, {in_flight} in flight: httpx's own transport", own_ms, "ms",
                    note=f"{own_rate:,.0f} calls/s")
            rep.add(f"CPU per Status API call, {in_flight} in flight: runner/transport.py", lean_ms, "ms",
                    baseline="httpx's own transport", baseline_value=own_ms, ratio=lean_ms / own_ms,
                    note=f"{lean_rate:,.0f} calls/s")


def main(argv: list[str] | None = None) -> int:
    return common.script_main("client", __doc__, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
