"""A sync run keeps at most PAYMENTS_HTTP_CONCURRENCY orders in flight, each from
its Status API call until its answer is applied. Found by bench/sync_scale.py:
when only the HTTP call was bounded, every answer of a 2,000-order run queued
for the pool at once, waited past the pool timeout (orders failed with
PoolTimeout) and starved the lease renewal sharing that pool (the run stopped).
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import psycopg
from psycopg.types.json import Jsonb

from runner import db as runner_db
from runner.jobs import sync_once
from runner.midtrans import MidtransClient
from runner.settings import load
from runner.simulator import create_app
from tests.servers import asgi_server

SERVER_KEY = "SB-Mid-server-sync-bound"
ORDERS = 6
CONCURRENCY = 2


class CountingTransport(httpx.AsyncHTTPTransport):
    """Counts the Status API calls made."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await super().handle_async_request(request)


def _waiting_on_locks(db: psycopg.Connection) -> int:
    return db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND application_name = 'payments-runner' AND wait_event_type = 'Lock'").fetchone()[0]


def test_answers_waiting_for_the_database_hold_their_place(db: psycopg.Connection, db_url: str) -> None:
    db.execute("SELECT payments.create_ticket_slot('GIG', 100)")
    numbers = [f"BOUND-{i}" for i in range(ORDERS)]
    for number in numbers:
        db.execute("SELECT payments.create_ticket_order(%s, %s, now() + interval '1 hour', 150000)",
                   (number, Jsonb([{"slot": "GIG", "quantity": 1}])))
    settings = load({}, database_url=db_url, server_key=SERVER_KEY, sync_min_age=0.0,
                    http_concurrency=CONCURRENCY, sync_batch=ORDERS)
    transport = CountingTransport()
    seen: dict[str, int] = {}
    blocker = psycopg.connect(db_url)        # holds every order's row: each apply waits for it
    blocker.execute("SELECT 1 FROM payments.orders WHERE order_number LIKE 'BOUND-%' FOR UPDATE")
    try:
        with asgi_server(create_app(SERVER_KEY, notify_url=None)) as sim:
            for number in numbers:
                created = httpx.post(f"{sim}/_sim/transactions", timeout=10,
                                     json={"order_id": number, "gross_amount": 150000, "notify": False})
                created.raise_for_status()

            def release_when_blocked() -> None:
                deadline = time.monotonic() + 30
                while _waiting_on_locks(db) < CONCURRENCY and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(0.5)   # a moment for any further answer to arrive (none may)
                seen["calls"], seen["waiting"] = transport.calls, _waiting_on_locks(db)
                blocker.rollback()

            async def main() -> dict:
                pool = runner_db.make_pool(db_url, max_size=ORDERS + 2)
                client = MidtransClient(sim, SERVER_KEY, timeout=30, retries=0, transport=transport)
                await pool.open(wait=True)
                try:
                    return await asyncio.wait_for(sync_once(settings, pool, client), timeout=60)
                finally:
                    await client.aclose()
                    await pool.close()

            watcher = threading.Thread(target=release_when_blocked)
            watcher.start()
            try:
                result = asyncio.run(main())
            finally:
                watcher.join()
    finally:
        blocker.close()
    assert seen == {"calls": CONCURRENCY, "waiting": CONCURRENCY}, \
        "while the first answers wait for the database, no further order is asked about"
    assert result["ok"] is True and result["checked"] == ORDERS and result["errors"] == 0, result
    assert transport.calls == ORDERS, "each order asked about once"
