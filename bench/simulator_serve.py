"""The Midtrans simulator for the webhook benchmark, as its own process.

Preloads settled transactions for the benchmark's pending orders
``{prefix}-{first} .. {prefix}-{first + count - 1}`` with the transaction ids
the load generator notifies about (``TX-{order_id}``, bench/fixtures.py), so
``payments serve`` can confirm every notification with the Status API. An
optional ``--delay`` makes every Status API answer wait that long (a realistic
Midtrans latency is about 150 ms; the control API's ``POST /_sim/faults``
changes it while serving). ``--pending`` leaves the transactions pending (the
sync benchmark: customers who have not paid yet). Serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from bench.fixtures import ORDER_AMOUNT  # noqa: E402
from runner.simulator import StatusFaults, create_app  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-key", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds every Status API answer waits")
    parser.add_argument("--pending", action="store_true", help="leave the transactions pending (not settled)")
    args = parser.parse_args(argv)

    app = create_app(args.server_key)
    for n in range(args.first, args.first + args.count):
        order_id = f"{args.prefix}-{n}"
        app.create_transaction(order_id, ORDER_AMOUNT, "bank_transfer", notify=False,
                               transaction_id=f"TX-{order_id}")
        if not args.pending:
            app.transition(order_id, "settle", {"notify": False})
    if args.delay:
        app.status_faults = StatusFaults(mode="ok", count=None, delay=args.delay)
    print(f"preloaded {args.count} {'pending' if args.pending else 'settled'} transactions", flush=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on",
                            access_log=False)
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
