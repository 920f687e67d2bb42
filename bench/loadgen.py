"""HTTP load generator for the webhook benchmark (run as its own process).

A small asyncio HTTP/1.1 client on raw keep-alive sockets, so the generator
costs far less CPU per request than the server it measures. Every request is a
signed Midtrans ``settlement`` notification (``runner.signature.signature``)
for a different pending order ``{prefix}-{n}``; requests and signatures are
built before the clock starts.

Modes:

* ``closed`` -- ``--connections`` workers each send the next notification as
  soon as the previous answer arrived, for ``--seconds`` (or until the orders
  run out): the maximum sustained rate and its latencies.
* ``open`` -- a fixed arrival rate (``--rate`` per second, open loop): request
  *i* is due at ``start + i / rate`` whether or not earlier ones have been
  answered, and its latency is measured from when it was due, so a stalled
  server shows up in the percentiles (no coordinated omission); a request
  still unanswered 60 s after the last was sent counts as ``unanswered``,
  with its wait until then.

``--port`` may name several ports (``8001,8002``: several ``serve`` workers
on one host); connection *i* goes to port *i* mod their number.

Prints one JSON line: sent, ok, errors (by status), seconds, rate, latency
percentiles and the maximum in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fixtures import ORDER_AMOUNT, notification_payload  # noqa: E402
from runner.signature import signature  # noqa: E402

PATH = "/midtrans/notification"
UNANSWERED_AFTER = 60.0   # open loop: seconds after the last request is sent to wait for answers


def build_request(host: str, port: int, order_id: str, server_key: str,
                  transaction_id: str | None = None) -> bytes:
    """A signed settlement for ``order_id``; its transaction_id ``TX-{order_id}`` (what
    bench/simulator_serve.py preloads) unless given (bench/flash_sale.py: the simulator's own)."""
    body = notification_payload(order_id, transaction_id or "TX-" + order_id)
    body["signature_key"] = signature(order_id, "200", ORDER_AMOUNT, server_key)
    raw = json.dumps(body).encode()
    head = (f"POST {PATH} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
            f"user-agent: payments-bench\r\ncontent-length: {len(raw)}\r\n\r\n")
    return head.encode() + raw


class Connection:
    """One keep-alive HTTP/1.1 connection: send a request, read one response."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(data)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            body = await self.reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.status: Counter[str] = Counter()
        self.first_error: str | None = None

    def record(self, started: float, status: int | str, body: bytes = b"") -> None:
        self.latencies.append(time.perf_counter() - started)
        ok = status == 200 and b'"paid"' in body
        self.status["ok" if ok else str(status)] += 1
        if not ok and self.first_error is None:
            self.first_error = f"{status} {body[:200]!r}"


async def closed_loop(host: str, ports: list[int], requests: list[bytes], connections: int,
                      seconds: float, stats: Stats) -> float:
    position = 0
    deadline = time.perf_counter() + seconds

    async def worker(port: int) -> None:
        nonlocal position
        conn = Connection(host, port)
        try:
            while position < len(requests) and time.perf_counter() < deadline:
                data = requests[position]
                position += 1
                started = time.perf_counter()
                try:
                    status, body = await conn.request(data)
                    stats.record(started, status, body)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    stats.record(started, type(exc).__name__)
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(ports[i % len(ports)]) for i in range(connections)))
    return time.perf_counter() - started


async def open_loop(host: str, ports: list[int], requests: list[bytes], connections: int, rate: float,
                    stats: Stats) -> float:
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for i in range(connections):
        idle.put_nowait(Connection(host, ports[i % len(ports)]))
    tasks: dict[asyncio.Task, float] = {}   # in flight -> when it was due

    async def send(data: bytes, due: float) -> None:
        conn = await idle.get()
        try:
            status, body = await conn.request(data)
            stats.record(due, status, body)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            stats.record(due, type(exc).__name__)
        finally:
            idle.put_nowait(conn)

    start = time.perf_counter() + 0.05
    for i, data in enumerate(requests):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(data, due))
        tasks[task] = due
        task.add_done_callback(lambda done: tasks.pop(done, None))
    if tasks:
        await asyncio.wait(set(tasks), timeout=UNANSWERED_AFTER)
    for task, due in list(tasks.items()):  # still waiting: counted, with the wait so far
        task.cancel()
        stats.record(due, "unanswered")
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return elapsed


def percentile_ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1] * 1000, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Signed Midtrans notifications against a webhook.")
    parser.add_argument("--port", required=True, help="a port, or several comma-separated (round robin)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--server-key", required=True)
    parser.add_argument("--prefix", required=True, help="orders {prefix}-{first}..{first+count-1}")
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--mode", choices=("closed", "open"), required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="closed loop: stop after this long")
    parser.add_argument("--rate", type=float, help="open loop: notifications per second")
    args = parser.parse_args(argv)
    if args.mode == "open" and not args.rate:
        parser.error("--mode open needs --rate")
    try:
        ports = [int(p) for p in args.port.split(",")]
    except ValueError:
        parser.error("--port takes port numbers, comma-separated")

    requests = [build_request(args.host, ports[0], f"{args.prefix}-{n}", args.server_key)
                for n in range(args.first, args.first + args.count)]
    stats = Stats()
    cpu_start = time.process_time()
    if args.mode == "closed":
        elapsed = asyncio.run(closed_loop(args.host, ports, requests, args.connections,
                                          args.seconds, stats))
    else:
        elapsed = asyncio.run(open_loop(args.host, ports, requests, args.connections, args.rate,
                                        stats))
    sent = len(stats.latencies)
    print(json.dumps({
        "mode": args.mode, "connections": args.connections, "target_rate": args.rate,
        "sent": sent, "ok": stats.status["ok"],
        "errors": {k: v for k, v in stats.status.items() if k != "ok"},
        "first_error": stats.first_error,
        "seconds": round(elapsed, 3), "rate": round(sent / elapsed, 1) if elapsed else 0.0,
        "p50_ms": percentile_ms(stats.latencies, 50), "p90_ms": percentile_ms(stats.latencies, 90),
        "p99_ms": percentile_ms(stats.latencies, 99), "max_ms": percentile_ms(stats.latencies, 100),
        "cpu_seconds": round(time.process_time() - cpu_start, 3),
    }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
