"""The trust boundary, attacked over real HTTP: PostgreSQL, the webhook server,
the Midtrans simulator. The attacker holds one genuine signed notification
(e.g. read from an old log) and rewrites the fields the signature does not
cover: transaction_status, fraud_status, transaction_id.

Midtrans signs order_id + status_code + gross_amount. The SQL API refuses a
status_code that no documented source sends with the status; with Status API
confirmation on (the default), a notification that would move money or goods
is only a trigger and Midtrans' own answer is applied."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner import db as runner_db
from runner.jobs import sync_once
from runner.midtrans import MidtransClient
from runner.settings import load
from runner.signature import signature
from runner.simulator import create_app
from runner.webhook import WebhookApp
from tests.servers import asgi_server

KEY = "SB-Mid-server-trust-boundary"


class CountingProxy:
    """Wraps the simulator: counts Status API requests and the most in flight at once."""

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.status_calls = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, scope, receive, send) -> None:
        counted = scope["type"] == "http" and scope["path"].endswith("/status")
        if counted:
            with self.lock:
                self.status_calls += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            if counted:
                with self.lock:
                    self.in_flight -= 1


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[str, CountingProxy]]:
    proxy = CountingProxy(create_app(KEY))
    with asgi_server(proxy) as base:
        yield base, proxy


@pytest.fixture()
def shop(db: psycopg.Connection, sim) -> psycopg.Connection:
    httpx.post(f"{sim[0]}/_sim/reset", json={})
    sim[1].status_calls = sim[1].max_in_flight = 0
    db.execute("SELECT payments.create_ticket_slot('GIG', 100)")
    return db


@contextlib.contextmanager
def webhook(db_url: str, sim_base: str, **settings) -> Iterator[str]:
    config = load({}, database_url=db_url, server_key=KEY, midtrans_api_base_url=sim_base, **settings)
    client = MidtransClient(sim_base, KEY, timeout=5, retries=0)
    app = WebhookApp(config, runner_db.make_pool(db_url, max_size=8), manage_pool=True, client=client)
    with asgi_server(app) as base:
        yield base


@pytest.fixture(params=[True, False], ids=["confirmed", "unconfirmed"])
def confirm(request) -> bool:
    return request.param


def order(db: psycopg.Connection, number: str, quantity: int = 2) -> None:
    db.execute("SELECT payments.create_ticket_order(%s, %s, %s, 150000)",
               (number, Jsonb([{"slot": "GIG", "quantity": quantity}]),
                datetime.now(UTC) + timedelta(hours=1)))


def sim_post(sim_base: str, path: str, body: dict | None = None) -> dict:
    response = httpx.post(f"{sim_base}/_sim{path}", json=body or {}, timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


def pay_at_midtrans(sim_base: str, number: str, *, settle: bool = True) -> tuple[dict, dict]:
    """A transaction at the simulator; returns Midtrans' own signed (pending, settlement) notifications."""
    sim_post(sim_base, "/transactions", {"order_id": number, "gross_amount": 150000, "notify": False})
    pending = sim_post(sim_base, f"/notify/{number}", {"faults": {"drop": True}})["notification"]
    if not settle:
        return pending, {}
    sim_post(sim_base, f"/transactions/{number}/settle", {"notify": False})
    settled = sim_post(sim_base, f"/notify/{number}", {"faults": {"drop": True}})["notification"]
    return pending, settled


def post(base: str, body: object) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{base}/midtrans/notification", content=content,
                      headers={"content-type": "application/json"}, timeout=20)


def state(db: psycopg.Connection, number: str) -> tuple:
    """(status, open review reasons, active tickets, slot reserved/sold)."""
    return db.execute(
        "SELECT o.status, (SELECT string_agg(r.reason, ',' ORDER BY r.reason) FROM payments.order_reviews r"
        "   WHERE r.order_id = o.id AND r.resolved_at IS NULL),"
        " (SELECT count(*) FROM payments.tickets t"
        "   JOIN payments.ticket_order_items i ON i.id = t.order_item_id"
        "   WHERE i.order_id = o.id AND t.status = 'active'),"
        " (SELECT s.reserved || '/' || s.sold FROM payments.ticket_slots s WHERE s.code = 'GIG')"
        " FROM payments.orders o WHERE o.order_number = %s", (number,)).fetchone()


def events(db: psycopg.Connection, number: str) -> list[tuple]:
    return db.execute("SELECT event_type, outcome, signature_valid FROM payments.webhook_logs"
                      " WHERE order_number = %s ORDER BY id", (number,)).fetchall()


# -- the two relabelling attacks ------------------------------------------------------------


def test_a_signed_pending_relabelled_settlement_pays_nothing(shop, sim, db_url, confirm) -> None:
    """A `201` never pays: the status_code check alone stops it, confirmation or not."""
    order(shop, "ATK-1")
    pending, _ = pay_at_midtrans(sim[0], "ATK-1", settle=False)
    assert pending["status_code"] == "201"
    forged = {**pending, "transaction_status": "settlement", "fraud_status": "accept"}
    with webhook(db_url, sim[0], confirm_with_status_api=confirm) as base:
        response = post(base, forged)
    assert response.status_code == 400
    assert response.json()["decision"] == "status_inconsistent"
    assert state(shop, "ATK-1") == ("pending", None, 0, "2/0"), "order, counters and goods unchanged"
    assert events(shop, "ATK-1") == [("status_inconsistent", "rejected", True)]
    assert shop.execute("SELECT count(*) FROM payments.gateway_transactions").fetchone()[0] == 0
    assert sim[1].status_calls == 0, "refused before anything would need Midtrans"


def test_a_signed_settlement_relabelled_refund_changes_nothing_when_confirmed(shop, sim, db_url) -> None:
    order(shop, "ATK-2")
    _, settled = pay_at_midtrans(sim[0], "ATK-2")
    with webhook(db_url, sim[0]) as base:
        assert post(base, settled).json()["decision"] == "paid"
        paid = state(shop, "ATK-2")
        # every relabel a 200 allows (a deny or cancel with 200 is refused outright)
        for relabel in ("refund", "partial_refund", "chargeback", "partial_chargeback"):
            response = post(base, {**settled, "transaction_status": relabel})
            assert response.status_code == 200, response.text
            assert response.json()["decision"] == "noop", f"Midtrans says settlement, not {relabel}"
    assert paid == ("paid", None, 2, "0/2")
    assert state(shop, "ATK-2") == paid, "order, counters and goods unchanged"
    logged = shop.execute("SELECT payload -> 'notification' ->> 'transaction_status',"
                          " transaction_status, detail ->> 'evidence' FROM payments.webhook_logs"
                          " WHERE order_number = 'ATK-2' ORDER BY id").fetchall()
    assert logged[1:] == [(relabel, "settlement", "status_api")
                          for relabel in ("refund", "partial_refund", "chargeback", "partial_chargeback")], \
        "each applied the Status API's answer and kept the notification beside it"


def test_unconfirmed_the_per_source_table_still_refuses_a_relabelled_cancel(shop, sim, db_url) -> None:
    """Notifications carry cancel / deny with 202; a signed 200 relabelled cancel is refused."""
    order(shop, "ATK-3")
    _, settled = pay_at_midtrans(sim[0], "ATK-3")
    with webhook(db_url, sim[0], confirm_with_status_api=False) as base:
        assert post(base, settled).json()["decision"] == "paid"
        for relabel in ("cancel", "deny", "expire", "pending"):
            response = post(base, {**settled, "transaction_status": relabel})
            assert response.status_code == 400, relabel
    assert state(shop, "ATK-3") == ("paid", None, 2, "0/2")


def test_unconfirmed_a_relabelled_refund_is_flagged_by_the_next_sync(shop, sim, db_url) -> None:
    """With confirmation off, a 200 relabelled refund is the risk the opt-out
    accepts. The Status API disagreeing with what was recorded for the same
    transaction is then never silent: sync flags the order for review."""
    order(shop, "ATK-4")
    _, settled = pay_at_midtrans(sim[0], "ATK-4")
    with webhook(db_url, sim[0], confirm_with_status_api=False) as base:
        assert post(base, settled).json()["decision"] == "paid"
        assert post(base, {**settled, "transaction_status": "refund"}).json()["decision"] == "refunded"
    assert state(shop, "ATK-4")[0] == "refunded"

    settings = load({}, database_url=db_url, server_key=KEY, midtrans_api_base_url=sim[0])

    async def sync() -> dict:
        pool = runner_db.make_pool(db_url, max_size=2)
        await pool.open()
        try:
            async with MidtransClient(sim[0], KEY, timeout=5, retries=0) as client:
                return await sync_once(settings, pool, client, orders=["ATK-4"])
        finally:
            await pool.close()

    totals = asyncio.run(sync())
    assert totals["disagreements"] == 1
    assert state(shop, "ATK-4")[:2] == ("refunded", "gateway_disagreement")
    assert shop.execute("SELECT transaction_status FROM payments.gateway_transactions").fetchone()[0] == \
        "refund", "the record is kept as it was for people to compare"
    assert events(shop, "ATK-4")[-1][:2] == ("gateway_status", "gateway_disagreement")


# -- confirmation ------------------------------------------------------------------------


def test_status_api_down_answers_503_and_applies_nothing(shop, sim, db_url) -> None:
    order(shop, "CNF-1")
    _, settled = pay_at_midtrans(sim[0], "CNF-1")
    sim_post(sim[0], "/faults", {"status_api": {"mode": "503", "count": None}})
    with webhook(db_url, sim[0]) as base:
        response = post(base, settled)
        assert response.status_code == 503, "Midtrans retries a 503 four times"
        assert state(shop, "CNF-1") == ("pending", None, 0, "2/0")
        assert events(shop, "CNF-1") == [("confirmation_unavailable", "503", True)]
        sim_post(sim[0], "/faults", {"status_api": {"mode": "ok"}})
        assert post(base, settled).json()["decision"] == "paid", "Midtrans' retry is confirmed"
    assert state(shop, "CNF-1") == ("paid", None, 2, "0/2")


def test_duplicate_and_stale_notifications_need_no_status_call(shop, sim, db_url) -> None:
    order(shop, "CNF-2")
    pending, settled = pay_at_midtrans(sim[0], "CNF-2")
    with webhook(db_url, sim[0]) as base:
        assert post(base, settled).json()["decision"] == "paid"
        calls = sim[1].status_calls
        sim_post(sim[0], "/faults", {"status_api": {"mode": "503", "count": None}})
        assert post(base, settled).json()["decision"] == "noop"
        assert post(base, pending).json()["decision"] == "stale_ignored"
    assert sim[1].status_calls == calls, "neither needed a Status API call"


def test_a_forged_transaction_id_is_not_confirmed(shop, sim, db_url) -> None:
    order(shop, "CNF-3")
    _, settled = pay_at_midtrans(sim[0], "CNF-3")
    with webhook(db_url, sim[0]) as base:
        response = post(base, {**settled, "transaction_id": "forged-transaction"})
    assert response.status_code == 404
    assert state(shop, "CNF-3") == ("pending", None, 0, "2/0")
    assert events(shop, "CNF-3") == [("confirmation_not_found", "404", True)]


def test_another_orders_transaction_id_is_refused(shop, sim, db_url) -> None:
    order(shop, "CNF-4")
    order(shop, "CNF-5")
    _, settled = pay_at_midtrans(sim[0], "CNF-4")
    _, other = pay_at_midtrans(sim[0], "CNF-5")
    with webhook(db_url, sim[0]) as base:
        response = post(base, {**settled, "transaction_id": other["transaction_id"]})
    assert response.status_code == 400
    assert state(shop, "CNF-4") == ("pending", None, 0, "4/0")
    assert events(shop, "CNF-4") == [("confirmation_mismatch", "400", True)]
    assert state(shop, "CNF-5")[0] == "pending", "and the other order is untouched"


def test_a_slow_status_api_is_cut_at_the_confirmation_timeout(shop, sim, db_url) -> None:
    order(shop, "CNF-6")
    _, settled = pay_at_midtrans(sim[0], "CNF-6")
    sim_post(sim[0], "/faults", {"status_api": {"mode": "ok", "delay": 8, "count": 1}})
    with webhook(db_url, sim[0], confirm_timeout=0.3) as base:
        response = post(base, settled)
    assert response.status_code == 503, "answered long before Midtrans' 15 s, without applying"
    assert state(shop, "CNF-6")[0] == "pending"


def test_status_api_calls_per_process_are_bounded(shop, sim, db_url) -> None:
    numbers = [f"CNC-{i}" for i in range(8)]
    bodies = []
    for number in numbers:
        order(shop, number, quantity=1)
        bodies.append(pay_at_midtrans(sim[0], number)[1])
    sim_post(sim[0], "/faults", {"status_api": {"mode": "ok", "delay": 0.2, "count": None}})

    async def burst(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(*(client.post(f"{base}/midtrans/notification", json=body)
                                          for body in bodies))

    with webhook(db_url, sim[0], confirm_concurrency=2) as base:
        responses = asyncio.run(burst(base))
    sim_post(sim[0], "/faults", {"status_api": {"mode": "ok"}})
    assert [r.json()["decision"] for r in responses] == ["paid"] * 8
    assert sim[1].status_calls == 8
    assert sim[1].max_in_flight <= 2, f"{sim[1].max_in_flight} Status API calls at once"


# -- no secret at rest ---------------------------------------------------------------------


def test_no_stored_row_holds_a_signature_after_a_burst(shop, sim, db_url) -> None:
    sent: set[str] = set()
    with webhook(db_url, sim[0]) as base:
        for i in range(12):
            number = f"SEC-{i}"
            order(shop, number, quantity=1)
            pending, settled = pay_at_midtrans(sim[0], number, settle=i % 3 != 0)
            for body in filter(None, (pending, settled)):
                sent.add(body["signature_key"])
                post(base, body)                                              # applied or confirmed
                post(base, {**body, "transaction_status": "settlement"})      # relabelled
                post(base, json.dumps(body).encode()[:-3])                    # malformed, signature inside
            wrong = {**(settled or pending),
                     "signature_key": signature(number, "200", "150000.00", "not-the-key")}
            sent.add(wrong["signature_key"])
            post(base, wrong)                                                 # bad signature
        post(base, {**pending, "order_id": "NO-SUCH-ORDER"})                  # unknown order
    settings = load({}, database_url=db_url, server_key=KEY, midtrans_api_base_url=sim[0],
                    sync_min_age=0.0)

    async def sync() -> None:
        pool = runner_db.make_pool(db_url, max_size=2)
        await pool.open()
        try:
            async with MidtransClient(sim[0], KEY, timeout=5, retries=0) as client:
                await sync_once(settings, pool, client)
        finally:
            await pool.close()

    asyncio.run(sync())
    assert shop.execute("SELECT count(*) FROM payments.webhook_logs").fetchone()[0] > 60
    tables = [r[0] for r in shop.execute(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'payments' AND c.relkind IN ('r', 'p')").fetchall()]
    assert "payments.webhook_logs" in tables
    for table in tables:
        dump = shop.execute(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} AS t").fetchone()[0]
        leaked = [s for s in sent if s in dump]
        assert not leaked, f"{table} stores {len(leaked)} signature(s)"
        assert KEY not in dump
