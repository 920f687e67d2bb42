"""Refunds from the shop, end to end: PostgreSQL, the Midtrans simulator over
real HTTP, the webhook server (Midtrans' refund notifications arrive too) and
`payments refund` / `payments resolve` as real processes. Nothing is mocked."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner import db as runner_db
from runner import refunds
from runner.midtrans import MidtransClient
from runner.settings import load
from runner.simulator import Simulator, create_app
from runner.webhook import WebhookApp
from tests.pgserver import free_port
from tests.servers import ROOT, asgi_server

SERVER_KEY = "SB-Mid-server-refund-key"


@dataclass
class Shop:
    db: psycopg.Connection
    db_url: str
    sim: str
    app: Simulator

    def env(self, **extra: str) -> dict[str, str]:
        return {"PAYMENTS_DATABASE_URL": self.db_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
                "MIDTRANS_API_BASE_URL": self.sim, "PAYMENTS_HTTP_TIMEOUT": "2s",
                "PAYMENTS_HTTP_RETRIES": "1", **extra}

    def payments(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runner.cli", *args], cwd=ROOT,
                              env={**os.environ, **self.env(**env)}, capture_output=True, text=True,
                              timeout=120)

    def control(self, path: str, body: dict | None = None) -> dict:
        response = httpx.post(f"{self.sim}/_sim{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def paid_tickets(self, number: str, quantity: int = 2, amount: int = 150000,
                     payment_type: str = "gopay", paid: int | None = None) -> None:
        """A ticket order paid at Midtrans and applied (through the webhook's
        Status API confirmation, as in production)."""
        self.db.execute("SELECT payments.create_ticket_order(%s, %s, %s, %s)",
                        (number, Jsonb([{"slot": "GIG", "quantity": quantity}]),
                         datetime.now(UTC) + timedelta(hours=1), amount))
        self.control("/transactions", {"order_id": number, "gross_amount": paid or amount,
                                       "payment_type": payment_type})
        self.control(f"/transactions/{number}/settle")
        eventually(lambda: self.status(number) == "paid", f"{number} paid")

    def paid_products(self, number: str, items: list[dict], amount: int) -> None:
        self.db.execute("SELECT payments.create_product_order(%s, %s, %s, %s)",
                        (number, Jsonb(items), datetime.now(UTC) + timedelta(hours=1), amount))
        self.control("/transactions", {"order_id": number, "gross_amount": amount, "payment_type": "qris"})
        self.control(f"/transactions/{number}/settle")
        eventually(lambda: self.status(number) == "paid", f"{number} paid")

    def status(self, number: str) -> str:
        return self.db.execute("SELECT status FROM payments.orders WHERE order_number = %s",
                               (number,)).fetchone()[0]

    def value(self, sql: str, *params: Any) -> Any:
        return self.db.execute(sql, params).fetchone()[0]

    def active_tickets(self, number: str) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT t.id FROM payments.tickets t JOIN payments.ticket_order_items i ON i.id = t.order_item_id"
            " JOIN payments.orders o ON o.id = i.order_id WHERE o.order_number = %s AND t.status = 'active'"
            " ORDER BY t.id", (number,)).fetchall()]

    def requests(self, number: str) -> list[tuple]:
        return self.db.execute(
            "SELECT r.state, r.amount, r.refund_key FROM payments.refund_requests r"
            " JOIN payments.orders o ON o.id = r.order_id WHERE o.order_number = %s ORDER BY r.id",
            (number,)).fetchall()

    def midtrans(self, number: str) -> Any:
        """The simulator's transaction of the order (its refund_amount and refunds)."""
        with self.app.lock:
            found = self.app.find(number)
            assert found is not None
            return found[1]

    def invariants(self) -> list:
        return self.db.execute("SELECT * FROM payments.check_invariants()").fetchall()

    def refund(self, number: str, *, timeout: float = 2.0, retries: int = 1, **options: Any) -> dict:
        async def go() -> dict:
            async with MidtransClient(self.sim, SERVER_KEY, timeout=timeout, retries=retries) as client:
                return await refunds.refund_order(self.db_url, client, number, **options)
        return asyncio.run(go())


def eventually(check: Any, what: str, timeout: float = 10.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture()
def shop(db: psycopg.Connection, db_url: str) -> Iterator[Shop]:
    db.execute("SELECT payments.create_ticket_slot('GIG', 100), payments.create_product_variant('TEE-M', 10),"
               " payments.create_product_variant('MUG', 10)")
    webhook_port = free_port()
    sim_app = create_app(SERVER_KEY, notify_url=f"http://127.0.0.1:{webhook_port}/midtrans/notification",
                         retry_scale=0.0005)
    with asgi_server(sim_app) as sim:
        settings = load({}, database_url=db_url, server_key=SERVER_KEY, midtrans_api_base_url=sim)
        app = WebhookApp(settings, runner_db.make_pool(db_url, max_size=4), manage_pool=True,
                         client=MidtransClient(sim, SERVER_KEY, timeout=2, retries=1))
        with asgi_server(app, port=webhook_port):
            yield Shop(db=db, db_url=db_url, sim=sim, app=sim_app)


def test_a_full_refund_refunds_at_midtrans_and_releases_every_ticket(shop: Shop) -> None:
    shop.paid_tickets("RF-1")
    result = shop.payments("refund", "RF-1", "--reason", "show cancelled")
    assert result.returncode == 0, result.stderr
    assert "150000 refunded of transaction" in result.stdout and "order refunded" in result.stdout
    txn = shop.midtrans("RF-1")
    assert txn.transaction_status == "refund" and txn.refund_amount == "150000.00"
    assert len(txn.refunds) == 1 and txn.refunds[0]["reason"] == "show cancelled"
    assert shop.status("RF-1") == "refunded"
    assert shop.active_tickets("RF-1") == []
    assert shop.value("SELECT reserved + sold FROM payments.ticket_slots WHERE code = 'GIG'") == 0
    assert [r[0] for r in shop.requests("RF-1")] == ["succeeded"]
    assert shop.value("SELECT stage FROM payments.gateway_transactions") == 41
    assert shop.invariants() == []


def test_a_partial_refund_keeps_the_goods_unless_named(shop: Shop) -> None:
    shop.paid_tickets("RF-2")
    kept = shop.refund("RF-2", amount="50000")
    assert kept["status"] == "paid" and kept["transaction_status"] == "partial_refund"
    assert kept["returned"] is None and kept["reviews_closed"] in (0, 1)
    assert len(shop.active_tickets("RF-2")) == 2
    assert shop.value("SELECT refund_amount FROM payments.gateway_transactions") == Decimal("50000.00")
    # the partial_refund review the ledger opens is decided by the request
    assert shop.value("SELECT count(*) FROM payments.order_reviews WHERE resolved_at IS NULL") == 0
    assert shop.invariants() == []

    first = shop.active_tickets("RF-2")[0]
    back = shop.payments("refund", "RF-2", "--amount", "75000", "--return-tickets", str(first), "--json")
    assert back.returncode == 0, back.stderr
    assert shop.active_tickets("RF-2") == [shop.active_tickets("RF-2")[0]] != [first]
    assert shop.value("SELECT sold FROM payments.ticket_slots WHERE code = 'GIG'") == 1
    assert shop.value("SELECT quantity FROM payments.ticket_order_items") == 1
    txn = shop.midtrans("RF-2")
    assert txn.refund_amount == "125000.00" and len(txn.refunds) == 2
    assert shop.value("SELECT refund_amount FROM payments.gateway_transactions") == Decimal("125000.00")
    assert shop.status("RF-2") == "paid"
    assert shop.invariants() == []


def test_a_partial_refund_restocks_the_units_named(shop: Shop) -> None:
    shop.paid_products("RF-3", [{"sku": "TEE-M", "quantity": 2, "unit_price": 100000},
                                {"sku": "MUG", "quantity": 1, "unit_price": 50000}], 250000)
    result = shop.payments("refund", "RF-3", "--amount", "100000", "--restock", "TEE-M=1")
    assert result.returncode == 0, result.stderr
    assert "1 x TEE-M restocked" in result.stdout
    assert shop.value("SELECT sold FROM payments.product_variants WHERE sku = 'TEE-M'") == 1
    assert shop.value("SELECT sold FROM payments.product_variants WHERE sku = 'MUG'") == 1
    assert shop.value("SELECT pickup_code IS NOT NULL FROM payments.orders") is True
    assert shop.status("RF-3") == "paid"
    assert shop.invariants() == []
    # more than the order still has of a SKU: refused before Midtrans is asked
    again = shop.payments("refund", "RF-3", "--amount", "1000", "--restock", "TEE-M=2")
    assert again.returncode == 1 and again.stderr.count("\n") == 1, again.stderr
    assert "PM020" in again.stderr and shop.midtrans("RF-3").refund_amount == "100000.00"


def test_a_refund_whose_answer_is_lost_is_retried_with_its_key_and_refunds_once(shop: Shop) -> None:
    shop.paid_tickets("RF-4")
    shop.control("/faults", {"refund": {"lose_answer": 1}})
    with pytest.raises(refunds.RefundError) as lost:
        shop.refund("RF-4", amount="60000", timeout=0.5, retries=0)
    assert "did not answer" in str(lost.value) and "stays open" in str(lost.value)
    (state, amount, key), = shop.requests("RF-4")
    assert state == "requested" and amount == Decimal("60000.00")
    assert shop.midtrans("RF-4").refund_amount == "60000.00", "Midtrans refunded; only the answer was lost"

    # another amount while the request is open: refused, nothing asked of Midtrans
    other = shop.payments("refund", "RF-4", "--amount", "10000")
    assert other.returncode == 1 and "PM023" in other.stderr, other.stderr

    retried = shop.refund("RF-4")        # the same command again (amount defaults to the open one)
    assert retried["reused"] is True and retried["refund_key"] == key
    txn = shop.midtrans("RF-4")
    assert txn.refund_amount == "60000.00" and len(txn.refunds) == 1, "refunded once"
    assert shop.requests("RF-4") == [("succeeded", Decimal("60000.00"), key)]
    assert shop.value("SELECT refund_amount FROM payments.gateway_transactions") == Decimal("60000.00")
    assert shop.invariants() == []


def test_refusals_are_one_line_and_change_nothing_but_the_request(shop: Shop) -> None:
    def refused(number: str, *args: str) -> str:
        result = shop.payments("refund", number, *args)
        assert result.returncode == 1, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert SERVER_KEY not in result.stderr
        return lines[0]

    # not settled: pending locally and at Midtrans
    shop.db.execute("SELECT payments.create_ticket_order('RF-5', '[{\"slot\":\"GIG\",\"quantity\":1}]',"
                    " now() + interval '1 hour', 50000)")
    shop.control("/transactions", {"order_id": "RF-5", "gross_amount": 50000, "payment_type": "gopay"})
    assert "no settled payment" in refused("RF-5") and shop.requests("RF-5") == []
    assert "unknown order" in refused("NOPE-1")
    assert "amount" in refused("RF-5", "--amount", "-5")
    assert "amount" in refused("RF-5", "--amount", "1.234")

    # a method Midtrans cannot refund through the API
    shop.paid_tickets("RF-6", payment_type="bank_transfer")
    line = refused("RF-6")
    assert "refused: 412" in line and "cannot be refunded" in line
    assert [r[0] for r in shop.requests("RF-6")] == ["refused"]
    assert shop.status("RF-6") == "paid" and len(shop.active_tickets("RF-6")) == 2

    # the refund window has passed
    shop.paid_tickets("RF-7", payment_type="ovo")
    shop.control("/transactions/RF-7/age", {"days": 8})
    line = refused("RF-7", "--amount", "1000")
    assert "412" in line and "window" in line
    assert [r[0] for r in shop.requests("RF-7")] == ["refused"]
    assert shop.midtrans("RF-7").refund_amount is None

    # more than is left: known locally ...
    shop.paid_tickets("RF-8")
    assert "above what is left" in refused("RF-8", "--amount", "150001") and shop.requests("RF-8") == []
    # ... or only at Midtrans (refunded in the dashboard, notification lost)
    shop.control("/transactions/RF-8/partial_refund", {"amount": 100000, "notify": False})
    line = refused("RF-8", "--amount", "60000")
    assert "414" in line and "invalid amount" in line
    assert [r[0] for r in shop.requests("RF-8")] == ["refused"]
    assert shop.midtrans("RF-8").refund_amount == "100000.00"
    assert shop.value("SELECT refund_amount FROM payments.gateway_transactions g JOIN payments.orders o"
                      " ON o.id = g.order_id WHERE o.order_number = 'RF-8'") == 0

    # a transaction Midtrans does not know (the ledger says settled, Midtrans has nothing)
    shop.db.execute("SELECT payments.create_ticket_order('RF-15', '[{\"slot\":\"GIG\",\"quantity\":1}]',"
                    " now() + interval '1 hour', 50000)")
    shop.db.execute("SELECT payments.apply_gateway_status('RF-15', 'settlement', NULL, 50000, 'tx-ghost',"
                    " '200', 'sync')")
    line = refused("RF-15")
    assert "does not know transaction tx-ghost" in line and "nothing refunded" in line
    assert [r[0] for r in shop.requests("RF-15")] == ["refused"]
    assert shop.status("RF-15") == "paid"
    assert shop.invariants() == []


def test_direct_refund_and_a_bank_that_denies_it(shop: Shop) -> None:
    shop.paid_tickets("RF-9", payment_type="shopeepay")
    shop.control("/faults", {"direct_refund": {"deny_by_bank": 1}})
    denied = shop.payments("refund", "RF-9", "--direct", "--amount", "20000")
    assert denied.returncode == 1
    assert "Direct Refund API refused: 202 Refund denied by the bank" in denied.stderr
    assert [r[0] for r in shop.requests("RF-9")] == ["refused"]
    assert shop.midtrans("RF-9").refund_amount is None

    done = shop.refund("RF-9", amount="20000", direct=True)
    assert done["direct"] is True and done["transaction_status"] == "partial_refund"
    txn = shop.midtrans("RF-9")
    assert txn.refund_amount == "20000.00"
    assert any(h.get("action") == "api_direct_refund" for h in txn.history)
    assert [r[0] for r in shop.requests("RF-9")] == ["refused", "succeeded"]
    assert shop.invariants() == []


def test_a_card_acquired_by_bca_goes_to_the_direct_refund_api() -> None:
    assert refunds.needs_direct_refund({"payment_type": "credit_card", "bank": "BCA"})
    assert not refunds.needs_direct_refund({"payment_type": "credit_card", "bank": "bni"})
    assert not refunds.needs_direct_refund({"payment_type": "gopay"})


def test_a_review_resolved_by_refunding_calls_midtrans_first(shop: Shop) -> None:
    # the customer paid 160000 for a 150000 order: paid, and amount_mismatch opens
    shop.paid_tickets("RF-10", paid=160000)
    opened = shop.value("SELECT reason FROM payments.order_reviews WHERE resolved_at IS NULL")
    assert opened == "amount_mismatch"

    # the SQL API alone cannot say "refunded" without a refund at Midtrans
    with pytest.raises(psycopg.Error) as no_refund:
        shop.db.execute("SELECT payments.resolve_review('RF-10', 'amount_mismatch', 'refund')")
    assert no_refund.value.sqlstate == "PM012"

    result = shop.payments("resolve", "RF-10", "amount_mismatch", "--refund", "--amount", "10000",
                           "--note", "overpaid")
    assert result.returncode == 0, result.stderr
    assert "10000 refunded" in result.stdout and "resolve RF-10 amount_mismatch: refund" in result.stdout
    txn = shop.midtrans("RF-10")
    assert txn.refund_amount == "10000.00" and txn.refunds[0]["reason"] == "overpaid"
    row = shop.db.execute("SELECT resolution, note FROM payments.order_reviews"
                          " WHERE reason = 'amount_mismatch'").fetchone()
    assert row[0] == "refund" and row[1].startswith("refund request #")
    assert shop.status("RF-10") == "paid"
    assert shop.invariants() == []

    # no open review: nothing is refunded
    again = shop.payments("resolve", "RF-10", "amount_mismatch", "--refund", "--amount", "1000")
    assert again.returncode == 1 and "no open amount_mismatch review" in again.stderr
    assert shop.midtrans("RF-10").refund_amount == "10000.00"


def test_a_dashboard_refund_is_recorded_under_its_own_name(shop: Shop) -> None:
    shop.paid_tickets("RF-11", paid=160000)
    result = shop.payments("resolve", "RF-11", "amount_mismatch", "--refunded-in-dashboard",
                           "--note", "refunded by phone")
    assert result.returncode == 0, result.stderr
    assert shop.status("RF-11") == "refunded" and shop.active_tickets("RF-11") == []
    assert shop.midtrans("RF-11").refund_amount is None, "Midtrans was not called"
    assert shop.value("SELECT resolution FROM payments.order_reviews") == "refunded_in_dashboard"
    assert shop.invariants() == []


def test_the_clients_own_retry_after_a_lost_answer_refunds_once(shop: Shop) -> None:
    shop.paid_tickets("RF-12", payment_type="credit_card")
    shop.control("/faults", {"refund": {"lose_answer": 1}})
    done = shop.refund("RF-12", timeout=0.5, retries=2)     # the retry inside one call sends the same key
    assert done["status"] == "refunded" and done["reused"] is False
    txn = shop.midtrans("RF-12")
    assert txn.refund_amount == "150000.00" and len(txn.refunds) == 1
    assert [r[0] for r in shop.requests("RF-12")] == ["succeeded"]
    assert shop.invariants() == []


def test_two_refunds_of_one_order_at_once_refund_once(shop: Shop) -> None:
    shop.paid_tickets("RF-13")

    async def both() -> list[Any]:
        async with MidtransClient(shop.sim, SERVER_KEY, timeout=2, retries=1) as client:
            calls = [refunds.refund_order(shop.db_url, client, "RF-13") for _ in range(2)]
            return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(both())
    done = [o for o in outcomes if isinstance(o, dict)]
    assert len(done) == 1 and done[0]["status"] == "refunded", outcomes
    other = next(o for o in outcomes if not isinstance(o, dict))
    # the other call either retried the open request (same key) or found nothing left to refund
    assert isinstance(other, refunds.RefundError), other
    assert "recorded by another call" in str(other) or "PM021" in str(other), other
    txn = shop.midtrans("RF-13")
    assert txn.refund_amount == "150000.00" and len(txn.refunds) == 1
    assert [r[0] for r in shop.requests("RF-13")] == ["succeeded"]
    assert shop.invariants() == []


def test_an_operator_login_refunds_and_the_runner_login_may_not(shop: Shop) -> None:
    for role, group in (("refund_operator", "payments_operator"), ("refund_app", "payments_runner")):
        shop.db.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN"
                        f" CREATE ROLE {role} LOGIN IN ROLE {group}; END IF; END $$")
    info = shop.db.info
    url = f"postgresql://{{}}@{info.host}:{info.port}/{info.dbname}"
    shop.paid_tickets("RF-14")

    denied = shop.payments("refund", "RF-14", PAYMENTS_DATABASE_URL=url.format("refund_app"))
    assert denied.returncode == 1 and len(denied.stderr.strip().splitlines()) == 1, denied.stderr
    assert "42501" in denied.stderr and "payments_operator" in denied.stderr
    assert shop.midtrans("RF-14").refund_amount is None

    done = shop.payments("refund", "RF-14", "--amount", "1000",
                         PAYMENTS_DATABASE_URL=url.format("refund_operator"))
    assert done.returncode == 0, done.stderr
    assert shop.value("SELECT requested_by || ' ' || finished_by FROM payments.refund_requests") == \
        "refund_operator refund_operator"
    assert shop.midtrans("RF-14").refund_amount == "1000.00"
