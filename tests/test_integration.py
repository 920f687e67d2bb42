"""The runner end to end over real sockets: PostgreSQL, the webhook server,
the Midtrans simulator, and `payments sync` / `payments reconcile` processes.
No HTTP or database is mocked."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner import db as runner_db
from runner.midtrans import MidtransClient
from runner.settings import load
from runner.simulator import create_app
from runner.webhook import WebhookApp
from tests.pgserver import free_port
from tests.servers import ROOT, asgi_server

SERVER_KEY = "SB-Mid-server-integration-key"


@dataclass
class Stack:
    db: psycopg.Connection
    db_url: str
    sim: str       # simulator base URL
    webhook: str   # webhook server base URL

    def env(self, **extra: str) -> dict[str, str]:
        return {"PAYMENTS_DATABASE_URL": self.db_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
                "MIDTRANS_API_BASE_URL": self.sim, "PAYMENTS_SYNC_MIN_AGE": "0s",
                "PAYMENTS_EXPIRY_GRACE": "0s", "PAYMENTS_HTTP_TIMEOUT": "2s",
                "PAYMENTS_HTTP_RETRIES": "1", **extra}

    def payments(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        import os
        return subprocess.run([sys.executable, "-m", "runner.cli", *args], cwd=ROOT,
                              env={**os.environ, **self.env(**env)}, capture_output=True, text=True,
                              timeout=120)

    def control(self, path: str, body: dict | None = None) -> httpx.Response:
        response = httpx.post(f"{self.sim}/_sim{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response

    def order(self, order_number: str, quantity: int = 2, amount: int = 150000,
              expires_in: timedelta = timedelta(hours=1)) -> None:
        self.db.execute("SELECT payments.create_ticket_order(%s, %s, %s, %s)",
                        (order_number, Jsonb([{"slot": "GIG", "quantity": quantity}]),
                         datetime.now(UTC) + expires_in, amount))

    def status(self, order_number: str) -> str:
        return self.db.execute("SELECT status FROM payments.orders WHERE order_number = %s",
                               (order_number,)).fetchone()[0]

    def tickets(self, order_number: str) -> int:
        return self.db.execute(
            "SELECT count(*) FROM payments.tickets t JOIN payments.ticket_order_items i"
            " ON i.id = t.order_item_id JOIN payments.orders o ON o.id = i.order_id"
            " WHERE o.order_number = %s AND t.status = 'active'", (order_number,)).fetchone()[0]

    def outcomes(self, order_number: str, event_type: str = "gateway_status") -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT outcome FROM payments.webhook_logs WHERE order_number = %s AND event_type = %s"
            " ORDER BY id", (order_number, event_type)).fetchall()]

    def invariants(self) -> list:
        return self.db.execute("SELECT * FROM payments.check_invariants()").fetchall()


def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture()
def stack(db: psycopg.Connection, db_url: str) -> Iterator[Stack]:
    db.execute("SELECT payments.create_ticket_slot('GIG', 100)")
    webhook_port = free_port()
    sim_app = create_app(SERVER_KEY, notify_url=f"http://127.0.0.1:{webhook_port}/midtrans/notification",
                         retry_scale=0.0005)
    with asgi_server(sim_app) as sim:
        # the default configuration: money-moving notifications are confirmed
        # with the simulator's Status API
        settings = load({}, database_url=db_url, server_key=SERVER_KEY, midtrans_api_base_url=sim)
        app = WebhookApp(settings, runner_db.make_pool(db_url, max_size=4), manage_pool=True,
                         client=MidtransClient(sim, SERVER_KEY, timeout=2, retries=1))
        with asgi_server(app, port=webhook_port) as webhook:
            yield Stack(db=db, db_url=db_url, sim=sim, webhook=webhook)


def deliveries(stack: Stack) -> list[dict]:
    return httpx.get(f"{stack.sim}/_sim/deliveries", timeout=10).json()["deliveries"]


def test_paid_notification_issues_tickets(stack: Stack) -> None:
    stack.order("INT-1")
    stack.control("/transactions", {"order_id": "INT-1", "gross_amount": 150000})
    stack.control("/transactions/INT-1/settle")
    eventually(lambda: stack.status("INT-1") == "paid", what="the settlement notification")
    assert stack.tickets("INT-1") == 2
    assert stack.outcomes("INT-1") == ["noop", "paid"]
    assert stack.invariants() == []


def test_bad_signature_is_rejected_and_logged(stack: Stack) -> None:
    stack.order("INT-2")
    stack.control("/transactions", {"order_id": "INT-2", "gross_amount": 150000, "notify": False})
    stack.control("/transactions/INT-2/settle", {"faults": {"bad_signature": True}})
    eventually(lambda: stack.outcomes("INT-2", "signature_invalid") != [], what="the forged delivery")
    assert stack.status("INT-2") == "pending"
    assert stack.tickets("INT-2") == 0
    assert any(d["http_status"] == 403 for d in deliveries(stack))


def test_duplicates_are_harmless(stack: Stack) -> None:
    stack.order("INT-3")
    stack.control("/transactions", {"order_id": "INT-3", "gross_amount": 150000, "notify": False})
    stack.control("/transactions/INT-3/settle", {"faults": {"duplicate": 4}})
    eventually(lambda: len(stack.outcomes("INT-3")) == 5, what="five deliveries")
    assert sorted(stack.outcomes("INT-3")) == ["noop"] * 4 + ["paid"]
    assert stack.tickets("INT-3") == 2
    assert stack.db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 2)


def test_dropped_webhook_is_healed_by_sync(stack: Stack) -> None:
    stack.order("INT-4")
    stack.control("/transactions", {"order_id": "INT-4", "gross_amount": 150000, "notify": False})
    stack.control("/transactions/INT-4/settle", {"faults": {"drop": True}})
    time.sleep(0.3)
    assert stack.status("INT-4") == "pending"

    result = stack.payments("sync", "--once", "--json")
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)
    assert totals["checked"] == 1 and totals["changed"] == 1 and totals["errors"] == 0
    assert stack.status("INT-4") == "paid"
    assert stack.tickets("INT-4") == 2
    assert stack.db.execute("SELECT source FROM payments.webhook_logs WHERE outcome = 'paid'"
                            ).fetchone()[0] == "sync"
    assert stack.db.execute("SELECT kind, totals->>'changed', error FROM payments.runs").fetchall() == [
        ("sync", "1", None)]
    assert stack.invariants() == []


def test_order_never_started_at_midtrans_counts_as_not_found(stack: Stack) -> None:
    stack.order("INT-5")
    result = stack.payments("sync", "--once", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["not_found"] == 1
    assert stack.status("INT-5") == "pending"
    # an answer that changes nothing is counted in the run, not logged per order
    assert stack.db.execute("SELECT count(*) FROM payments.webhook_logs WHERE order_number = 'INT-5'"
                            ).fetchone()[0] == 0
    run = stack.db.execute("SELECT not_found, ok FROM payments.runs WHERE kind = 'sync'").fetchone()
    assert run == (1, True)


def test_expired_order_is_released_by_reconcile(stack: Stack) -> None:
    stack.order("INT-6")
    stack.control("/transactions", {"order_id": "INT-6", "gross_amount": 150000, "notify": False})
    stack.db.execute("UPDATE payments.orders SET expires_at = now() - interval '1 minute'"
                     " WHERE order_number = 'INT-6'")
    result = stack.payments("reconcile", "--once", "--json")
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)
    # the run's own counters: one order answered and changed by check 5, nothing repaired locally
    assert totals["expired_at_midtrans"] == 1 and totals["repaired"] == 0
    assert totals["checked"] == 1 and totals["changed"] == 1
    assert stack.status("INT-6") == "expired"
    assert stack.db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 0)
    midtrans = httpx.get(f"{stack.sim}/v2/INT-6/status", auth=(SERVER_KEY, "")).json()
    assert midtrans["transaction_status"] == "expire", "expired at Midtrans before releasing"
    assert stack.invariants() == []


def test_expired_order_never_started_at_midtrans_is_released(stack: Stack) -> None:
    stack.order("INT-7")
    stack.db.execute("UPDATE payments.orders SET expires_at = now() - interval '1 minute'")
    result = stack.payments("reconcile", "--once", "--json")
    assert result.returncode == 0, result.stderr
    assert stack.status("INT-7") == "expired"
    assert stack.db.execute("SELECT reserved FROM payments.ticket_slots").fetchone()[0] == 0


@pytest.mark.parametrize("mode", ["503", "timeout"])
def test_midtrans_outage_during_sync_changes_nothing_and_is_counted(stack: Stack, mode: str) -> None:
    stack.order("INT-8")
    stack.control("/transactions", {"order_id": "INT-8", "gross_amount": 150000, "notify": False})
    stack.control("/transactions/INT-8/settle", {"faults": {"drop": True}})
    stack.control("/faults", {"status_api": {"mode": mode, "count": None}})

    result = stack.payments("sync", "--once", "--json", PAYMENTS_HTTP_TIMEOUT="1s")
    assert result.returncode == 1
    assert json.loads(result.stdout)["errors"] == 1
    assert stack.status("INT-8") == "pending"
    assert stack.db.execute("SELECT totals->>'errors', error IS NOT NULL FROM payments.runs"
                            ).fetchall() == [("1", True)]

    stack.control("/faults", {"status_api": {"mode": "ok"}})
    healed = stack.payments("sync", "--once", "--json")
    assert healed.returncode == 0, healed.stderr
    assert stack.status("INT-8") == "paid"
    assert stack.invariants() == []


def test_two_concurrent_reconciles_never_repair_the_same_order(stack: Stack) -> None:
    for i in range(60):
        stack.order(f"REP-{i}", quantity=1)
    # paid (the payments are in the ledger), but the side-effects never ran
    stack.db.execute("INSERT INTO payments.gateway_transactions (order_id, transaction_id,"
                     " transaction_status, stage, gross_amount, seen_paid)"
                     " SELECT id, 'tx-' || id, 'settlement', 22, gross_amount, true FROM payments.orders")
    stack.db.execute("UPDATE payments.orders SET status = 'paid'")
    cmd = [sys.executable, "-m", "runner.cli", "reconcile", "--once", "--local-only", "--json"]
    import os
    env = {**os.environ, **stack.env(PAYMENTS_RECONCILE_BATCH="7")}
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    # both worked one after the other, or one found the other's lease and was skipped (exit 3)
    assert sorted(p.returncode for p in procs) in ([0, 0], [0, 3]), outputs
    fixes = stack.db.execute(
        "SELECT order_number, count(*) FROM payments.webhook_logs"
        " WHERE event_type = 'reconcile_fix_ticket_issued' GROUP BY order_number").fetchall()
    assert len(fixes) == 60
    assert {count for _, count in fixes} == {1}, "no order repaired twice"
    assert stack.db.execute("SELECT count(*) FROM payments.tickets").fetchone()[0] == 60
    assert stack.invariants() == []


def test_resync_one_order_by_number(stack: Stack) -> None:
    """The runbook's manual recovery: `payments sync --order N` asks about exactly
    that order, even when it is not due (and even when it is not pending)."""
    stack.order("ONE-1")
    stack.order("ONE-2")
    for number in ("ONE-1", "ONE-2"):
        stack.control("/transactions", {"order_id": number, "gross_amount": 150000, "notify": False})
        stack.control(f"/transactions/{number}/settle", {"notify": False})
    result = stack.payments("sync", "--order", "ONE-1", "--json", PAYMENTS_SYNC_MIN_AGE="1h")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["changed"] == 1
    assert (stack.status("ONE-1"), stack.status("ONE-2")) == ("paid", "pending")
    unknown = stack.payments("sync", "--order", "NOPE-9", "--json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["errors"] == 1


def test_a_notification_is_only_a_trigger_for_the_status_api(stack: Stack) -> None:
    """The default: a correctly signed settlement pays only once the Status API
    says so; while it says pending, the order stays pending (and the answer is
    logged); while it is down, Midtrans gets 503 and retries."""
    stack.order("VER-1")
    stack.control("/transactions", {"order_id": "VER-1", "gross_amount": 150000, "notify": False})
    claim = stack.control("/transactions/VER-1/settle", {"notify": False}).json()["transaction"]
    stack.control("/faults", {"status_api": {"mode": "503", "count": None}})
    down = httpx.post(f"{stack.webhook}/midtrans/notification", json=claim, timeout=10)
    assert down.status_code == 503, "Midtrans retries while its Status API is down"
    assert stack.status("VER-1") == "pending"
    stack.control("/faults", {"status_api": {"mode": "ok"}})
    applied = httpx.post(f"{stack.webhook}/midtrans/notification", json=claim, timeout=10)
    assert applied.json()["decision"] == "paid"
    row = stack.db.execute("SELECT source, detail ->> 'evidence', payload ? 'notification'"
                           " FROM payments.webhook_logs WHERE outcome = 'paid'").fetchone()
    assert row == ("webhook", "status_api", True)
