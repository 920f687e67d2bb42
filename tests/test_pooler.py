"""The runner through a real PgBouncer in transaction mode (tests/pooler.py),
as behind Supabase's pooler on port 6543: each statement may run on another
server connection. A webhook burst, sync and reconcile over many orders, and
the concurrency scenarios, with zero errors; and why it needs no prepared
statements: a default psycopg connection breaks there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner import db as runner_db
from runner.midtrans import MidtransClient
from runner.settings import load
from runner.signature import signature
from runner.simulator import create_app
from runner.webhook import WebhookApp
from tests.servers import ROOT, asgi_server

SERVER_KEY = "SB-Mid-server-pooler-key"


def _future() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def _invariants(db: psycopg.Connection) -> list:
    return db.execute("SELECT * FROM payments.check_invariants()").fetchall()


def _hammer(url: str, **connect: object) -> Counter[str]:
    """8 connections each running one parameterized query 30 times at once;
    the SQLSTATEs of the failures (empty: none failed)."""
    conns = [psycopg.connect(url, autocommit=True, **connect) for _ in range(8)]
    failures: Counter[str] = Counter()
    barrier = threading.Barrier(len(conns))

    def work(conn: psycopg.Connection) -> None:
        barrier.wait()
        for i in range(30):
            try:
                conn.execute("SELECT count(*) FROM payments.orders WHERE order_number = %s", (str(i),))
            except psycopg.Error as exc:
                failures[exc.sqlstate or "?"] += 1

    try:
        with ThreadPoolExecutor(max_workers=len(conns)) as pool:
            list(pool.map(work, conns))
    finally:
        for conn in conns:
            conn.close()
    return failures


def test_prepared_statements_break_through_the_pooler_and_the_runner_never_prepares(pooled_db_url) -> None:
    """Why the runner's connections say prepare_threshold=None: psycopg's default
    prepares a query after 5 executions, and the next execution through a
    transaction pooler lands on a server connection without it (26000) or with
    another one of that name (42P05)."""
    broken = _hammer(pooled_db_url)
    assert broken and set(broken) <= {"26000", "42P05"}, broken
    assert _hammer(pooled_db_url, **runner_db.CONNECT_OPTIONS) == Counter()
    with runner_db.connect(pooled_db_url, autocommit=True) as conn:
        assert conn.prepare_threshold is None


# -- the webhook burst ---------------------------------------------------------------


def _notification(order_id: str, transaction_id: str) -> dict:
    body = {"transaction_time": "2026-11-26 10:00:00", "transaction_status": "settlement",
            "transaction_id": transaction_id, "status_message": "midtrans payment notification",
            "status_code": "200", "payment_type": "bank_transfer", "order_id": order_id,
            "merchant_id": "G000000000", "gross_amount": "150000.00", "currency": "IDR"}
    body["signature_key"] = signature(order_id, "200", "150000.00", SERVER_KEY)
    return body


def _burst(db: psycopg.Connection, url: str, orders: int = 100, copies: int = 3) -> Counter[int]:
    """`orders` paid notifications, each delivered `copies` times, 32 at once,
    to a webhook whose pool connects to `url`; the HTTP statuses answered."""
    db.execute("SELECT payments.create_ticket_slot('GIG', 1000)")
    for i in range(orders):
        db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 150000)",
                   (f"BURST-{i}", Jsonb([{"slot": "GIG", "quantity": 2}]), _future()))
    settings = load({}, database_url=url, server_key=SERVER_KEY, confirm_with_status_api=False)
    app = WebhookApp(settings, runner_db.make_pool(url, max_size=10), manage_pool=True)
    bodies = [json.dumps(_notification(f"BURST-{i}", f"tx-{i}")).encode()
              for _ in range(copies) for i in range(orders)]
    with asgi_server(app) as base, httpx.Client(timeout=30) as client:
        def post(body: bytes) -> int:
            return client.post(f"{base}/midtrans/notification", content=body,
                               headers={"content-type": "application/json"}).status_code

        with ThreadPoolExecutor(max_workers=32) as pool:
            return Counter(pool.map(post, bodies))


def test_a_webhook_burst_through_the_pooler_is_all_200(db, pooled_db_url) -> None:
    statuses = _burst(db, pooled_db_url)
    assert statuses == {200: 300}, statuses
    assert db.execute("SELECT status, count(*) FROM payments.orders GROUP BY status").fetchall() == [
        ("paid", 100)]
    assert db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0] == 200
    outcomes = db.execute("SELECT outcome, count(*) FROM payments.webhook_logs GROUP BY outcome").fetchall()
    assert dict(outcomes) == {"paid": 100, "noop": 200}
    assert _invariants(db) == []


def test_the_burst_fails_through_the_pooler_when_the_runner_prepares(db, pooled_db_url, monkeypatch) -> None:
    """The burst test can fail: with psycopg's default (prepare after 5
    executions) the same burst through the same pooler is not all 200."""
    monkeypatch.setattr(runner_db, "CONNECT_OPTIONS", {"prepare_threshold": 5})
    statuses = _burst(db, pooled_db_url)
    assert statuses[200] < 300, statuses


# -- sync and reconcile, as processes ------------------------------------------------


@dataclass
class Shop:
    db: psycopg.Connection
    url: str       # the runner's database URL: through the pooler
    sim: str

    def payments(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        environment = {**os.environ, "PAYMENTS_DATABASE_URL": self.url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
                       "MIDTRANS_API_BASE_URL": self.sim, "PAYMENTS_SYNC_MIN_AGE": "0s",
                       "PAYMENTS_EXPIRY_GRACE": "0s", "PAYMENTS_HTTP_TIMEOUT": "5s", **env}
        return subprocess.run([sys.executable, "-m", "runner.cli", *args], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=180)

    def control(self, path: str, body: dict | None = None) -> None:
        response = httpx.post(f"{self.sim}/_sim{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text

    def orders(self, prefix: str, count: int, expires_in: timedelta = timedelta(hours=1)) -> list[str]:
        numbers = [f"{prefix}-{i}" for i in range(count)]
        for number in numbers:
            self.db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 150000)",
                            (number, Jsonb([{"slot": "GIG", "quantity": 1}]), datetime.now(UTC) + expires_in))
        return numbers

    def statuses(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, count(*) FROM payments.orders GROUP BY status").fetchall()
        return dict(rows)


@pytest.fixture()
def shop(db: psycopg.Connection, pooled_db_url: str) -> Iterator[Shop]:
    db.execute("SELECT payments.create_ticket_slot('GIG', 1000)")
    with asgi_server(create_app(SERVER_KEY, notify_url=None, retry_scale=0.0005)) as sim:
        yield Shop(db=db, url=pooled_db_url, sim=sim)


def test_sync_once_over_many_orders_through_the_pooler_has_no_errors(shop: Shop) -> None:
    numbers = shop.orders("SYNC", 60)
    for number in numbers:  # paid at Midtrans, every notification lost
        shop.control("/transactions", {"order_id": number, "gross_amount": 150000, "notify": False})
        shop.control(f"/transactions/{number}/settle", {"notify": False})
    result = shop.payments("sync", "--once", "--json", PAYMENTS_HTTP_CONCURRENCY="16")
    assert result.returncode == 0, result.stdout + result.stderr
    totals = json.loads(result.stdout)
    assert (totals["skipped"], totals["checked"], totals["changed"], totals["errors"]) == (False, 60, 60, 0)
    assert shop.statuses() == {"paid": 60}
    assert shop.db.execute("SELECT count(*) FROM payments.leases").fetchone()[0] == 0, "lease released"
    assert _invariants(shop.db) == []


def test_reconcile_through_the_pooler_repairs_and_expires_without_errors(shop: Shop) -> None:
    paid = shop.orders("PAID", 30)
    stale = shop.orders("STALE", 30, expires_in=timedelta(seconds=1))
    # paid in the ledger, side-effects never ran: checks 1-4 repair them
    shop.db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status,"
                    " stage, gross_amount, seen_paid)"
                    " SELECT id, 'tx-' || id, 'settlement', 22, gross_amount, true FROM payments.orders"
                    "  WHERE order_number = ANY (%s)", (paid,))
    shop.db.execute("UPDATE payments.orders SET status = 'paid' WHERE order_number = ANY (%s)", (paid,))
    for number in stale[:15]:  # still pending at Midtrans: check 5 expires them there first
        shop.control("/transactions", {"order_id": number, "gross_amount": 150000, "notify": False})
    time.sleep(1.1)
    result = shop.payments("reconcile", "--once", "--json", PAYMENTS_RECONCILE_BATCH="100")
    assert result.returncode == 0, result.stdout + result.stderr
    totals = json.loads(result.stdout)
    assert totals["skipped"] is False and totals["ok"] is True and totals["errors"] == 0, totals
    assert totals["repaired"] == 30 and totals["pending_past_expiry"] == 30
    assert totals["expired_at_midtrans"] == 15
    assert shop.statuses() == {"paid": 30, "expired": 30}
    tickets = shop.db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0]
    assert tickets == 30
    assert _invariants(shop.db) == []


# -- the concurrency scenarios: tests/test_concurrency.py runs every one of them
# -- straight to the server and through this pooler (its race_url fixture)


def test_the_pooler_fixture_is_in_transaction_mode(pgbouncer) -> None:
    """What the tests above run through: PgBouncer's own SHOW CONFIG says
    pool_mode = transaction."""
    admin = f"postgresql://postgres@{pgbouncer.host}:{pgbouncer.port}/pgbouncer"
    # its admin console speaks the simple query protocol only: a client-side cursor
    with psycopg.connect(admin, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        config = {row[0]: row[1] for row in conn.execute("SHOW CONFIG").fetchall()}
    assert config["pool_mode"] == "transaction"


def test_confirmed_notifications_through_the_pooler_are_all_200(shop: Shop) -> None:
    """The default webhook: a paying notification is a trigger-only call, a Status API
    question and the apply of Midtrans' answer. Through the pooler, 60 settlements
    each delivered 3 times, 32 at once: all 200, each order paid once, on the
    Status API's word."""
    numbers = shop.orders("CONF", 60)
    bodies = []
    for number in numbers:
        shop.control("/transactions", {"order_id": number, "gross_amount": 150000, "notify": False})
        settled = httpx.post(f"{shop.sim}/_sim/transactions/{number}/settle", json={"notify": False},
                             timeout=10).json()["transaction"]
        settled["signature_key"] = signature(number, settled["status_code"], settled["gross_amount"],
                                             SERVER_KEY)
        bodies.append(json.dumps(settled).encode())
    settings = load({}, database_url=shop.url, server_key=SERVER_KEY, midtrans_api_base_url=shop.sim)
    assert settings.confirm_with_status_api, "the default"
    client = MidtransClient(shop.sim, SERVER_KEY, timeout=10, retries=0)
    app = WebhookApp(settings, runner_db.make_pool(shop.url, max_size=10), manage_pool=True, client=client)
    with asgi_server(app) as base, httpx.Client(timeout=30) as http:
        def post(body: bytes) -> int:
            return http.post(f"{base}/midtrans/notification", content=body,
                             headers={"content-type": "application/json"}).status_code

        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = Counter(pool.map(post, bodies * 3))
    assert statuses == {200: 180}, statuses
    assert shop.statuses() == {"paid": 60}
    assert shop.db.execute("SELECT count(*) FROM payments.webhook_logs WHERE outcome = 'paid'"
                           " AND detail ->> 'evidence' = 'status_api'").fetchone()[0] == 60
    assert _invariants(shop.db) == []
