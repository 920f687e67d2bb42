"""Resilience scenarios end to end: PostgreSQL, `payments serve` as a real
process, the Midtrans simulator (in a thread, notifying `serve` over HTTP) and
`payments sync` / `payments reconcile` processes. No HTTP or database call is
mocked; faults are real: dropped, duplicated and reordered notifications, a
webhook endpoint that is down, SIGKILL, a database backend terminated in the
middle of a transaction, a PostgreSQL restart and a Midtrans Status API outage.

Every scenario ends with `payments.check_invariants()` empty, the counters equal
to what the orders imply (computed here, independently of the SQL) and the
expected final state of every order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from runner.simulator import Simulator, create_app
from tests.pgserver import Server, free_port, wait_until_ready
from tests.servers import ROOT, asgi_server, wait_http

SERVER_KEY = "SB-Mid-server-scenario-key-5f1c"
# Midtrans retries after 2 m, 10 m, 30 m, 1.5 h, 3.5 h; scaled: 0.24 s, 1.2 s, 3.6 s, ...
RETRY_SCALE = 0.002
SLOTS = {"GIG": 100, "SMALL": 2}
VARIANTS = {"TEE": 100, "CAP": 1}
FINAL_NOTE_STATES = {"delivered", "failed", "dropped", "recorded", "cancelled"}


# -- helpers shared with tests/test_property.py ------------------------------------


def _holding(status: str, short: bool) -> str:
    """What an order holds, from its status: its reservation while pending, its
    goods sold once paid, nothing once released. A paid order short of capacity
    / stock (paid after its release, paid_after_release) holds nothing until a
    person decides."""
    if status == "pending":
        return "reserved"
    if status == "paid":
        return "nothing" if short else "sold"
    return "nothing"


def implied_counters(conn: psycopg.Connection) -> tuple[dict, dict]:
    """(expected, actual) counters per slot / variant; the expected ones are
    derived from order statuses (see _holding), independently of
    finalized_quantity and of counter_drift()."""
    expected: dict = {}
    actual: dict = {}
    for resource, table, code, reserved, items, ref in (
            ("slot", "ticket_slots", "code", "reserved", "ticket_order_items", "slot_id"),
            ("variant", "product_variants", "sku", "reserved_stock", "product_order_items", "variant_id")):
        for key, res, sold in conn.execute(f"SELECT {code}, {reserved}, sold FROM payments.{table}"):
            actual[(resource, key)] = (res, sold)
            expected[(resource, key)] = (0, 0)
        rows = conn.execute(
            f"SELECT r.{code}, o.status, o.shortfall_at IS NOT NULL, i.quantity"
            f"  FROM payments.{items} i JOIN payments.orders o ON o.id = i.order_id"
            f"  JOIN payments.{table} r ON r.id = i.{ref}")
        for key, status, short, quantity in rows:
            res, sold = expected[(resource, key)]
            holding = _holding(status, short)
            expected[(resource, key)] = (res + quantity * (holding == "reserved"),
                                         sold + quantity * (holding == "sold"))
    return expected, actual


def fulfilment_problems(conn: psycopg.Connection) -> list[str]:
    """Orders whose tickets / pickup code disagree with what they hold (checked
    here in Python, independently of check_invariants)."""
    problems = []
    rows = conn.execute(
        "SELECT o.order_number, o.kind, o.status, o.shortfall_at IS NOT NULL, o.pickup_code,"
        "       (SELECT coalesce(sum(i.quantity), 0) FROM payments.ticket_order_items i"
        "         WHERE i.order_id = o.id),"
        "       (SELECT count(*) FROM payments.tickets t JOIN payments.ticket_order_items i"
        "            ON i.id = t.order_item_id WHERE i.order_id = o.id AND t.status = 'active')"
        "  FROM payments.orders o").fetchall()
    for number, kind, status, short, pickup, quantity, active in rows:
        sold = _holding(status, short) == "sold"
        if kind == "ticket" and active != (quantity if sold else 0):
            problems.append(f"{number}: {status} has {active} active tickets of {quantity}")
        if kind == "product" and sold != (pickup is not None):
            problems.append(f"{number}: {status} {'without' if sold else 'with'} a pickup code")
    return problems


def assert_books_balance(conn: psycopg.Connection) -> None:
    assert conn.execute("SELECT * FROM payments.check_invariants()").fetchall() == []
    expected, actual = implied_counters(conn)
    assert actual == expected, "counters differ from what the orders imply"
    assert fulfilment_problems(conn) == []


def eventually(check: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


# -- the world: database, simulator, serve ----------------------------------------------


@dataclass
class World:
    db: psycopg.Connection
    db_url: str
    sim_app: Simulator
    sim: str
    port: int
    log_dir: Path
    serve: subprocess.Popen | None = None
    serve_logs: list[Path] = field(default_factory=list)

    @property
    def notify_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/midtrans/notification"

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PAYMENTS_DATABASE_URL": self.db_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
                "MIDTRANS_API_BASE_URL": self.sim, "PAYMENTS_PORT": str(self.port),
                "PAYMENTS_SYNC_MIN_AGE": "0s", "PAYMENTS_SYNC_RECHECK_AFTER": "0s",
                "PAYMENTS_EXPIRY_GRACE": "0s", "PAYMENTS_HTTP_TIMEOUT": "2s", "PAYMENTS_HTTP_RETRIES": "1",
                **extra}

    # processes

    def start_serve(self, **extra: str) -> subprocess.Popen:
        """`payments serve` without its schedules: sync and reconcile run only when a test says so."""
        log = self.log_dir / f"serve-{len(self.serve_logs)}.log"
        self.serve_logs.append(log)
        with open(log, "w") as out:
            self.serve = subprocess.Popen(
                [sys.executable, "-m", "runner.cli", "serve", "--no-sync", "--no-reconcile"], cwd=ROOT,
                env=self.env(**extra), stdout=out, stderr=subprocess.STDOUT, text=True)
        wait_http(f"http://127.0.0.1:{self.port}/healthz")
        return self.serve

    def stop_serve(self, sig: int = signal.SIGTERM) -> None:
        if self.serve is not None and self.serve.poll() is None:
            self.serve.send_signal(sig)
            try:
                self.serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait()
        self.serve = None

    def cli(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runner.cli", *args], cwd=ROOT, env=self.env(**extra),
                              capture_output=True, text=True, timeout=120)

    def sync(self, expect_code: int = 0, **extra: str) -> dict:
        result = self.cli("sync", "--once", "--json", **extra)
        assert result.returncode == expect_code, result.stdout + result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}

    def reconcile(self, expect_code: int = 0, **extra: str) -> dict:
        result = self.cli("reconcile", "--once", "--json", **extra)
        assert result.returncode == expect_code, result.stdout + result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}

    # the shop

    def ticket_order(self, number: str, quantity: int = 2, slot: str = "GIG", amount: int = 150000,
                     expires_at: datetime | None = None) -> None:
        self.db.execute("SELECT payments.create_ticket_order(%s, %s, %s, %s)",
                        (number, Jsonb([{"slot": slot, "quantity": quantity}]), expires_at or in_an_hour(),
                         amount))

    def product_order(self, number: str, quantity: int = 2, sku: str = "TEE", amount: int = 90000,
                      expires_at: datetime | None = None) -> None:
        self.db.execute("SELECT payments.create_product_order(%s, %s, %s, %s)",
                        (number, Jsonb([{"sku": sku, "quantity": quantity}]), expires_at or in_an_hour(),
                         amount))

    def past_expiry(self, *numbers: str) -> None:
        self.db.execute("UPDATE payments.orders SET expires_at = now() - interval '1 minute'"
                        " WHERE order_number = ANY(%s)", (list(numbers),))

    # Midtrans

    def control(self, path: str, body: dict | None = None) -> dict:
        response = httpx.post(f"{self.sim}/_sim{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def pay(self, number: str, amount: int, payment_type: str = "bank_transfer", **body: object) -> dict:
        """The customer picks a payment method: a pending transaction at Midtrans."""
        return self.control("/transactions", {"order_id": number, "gross_amount": amount,
                                              "payment_type": payment_type, **body})

    def act(self, number: str, action: str, **body: object) -> dict:
        return self.control(f"/transactions/{number}/{action}", body)

    def deliveries(self, number: str | None = None) -> list[dict]:
        with self.sim_app.lock:
            return [dict(d) for d in self.sim_app.deliveries if number in (None, d["order_id"])]

    def quiet(self, timeout: float = 20.0) -> None:
        """Wait until Midtrans has no notification left to (re)try."""
        def done() -> bool:
            with self.sim_app.lock:
                return all(n.state in FINAL_NOTE_STATES or n.state == "held"
                           for n in self.sim_app.notifications)
        eventually(done, timeout, "Midtrans to finish its deliveries and retries")

    # the books

    def order(self, number: str) -> dict:
        cur = self.db.execute("SELECT * FROM payments.orders WHERE order_number = %s", (number,))
        names = [c.name for c in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))

    def status(self, number: str) -> str:
        return self.order(number)["status"]

    def tickets(self, number: str, status: str = "active") -> int:
        return self.db.execute(
            "SELECT count(*) FROM payments.tickets t"
            " JOIN payments.ticket_order_items i ON i.id = t.order_item_id"
            " JOIN payments.orders o ON o.id = i.order_id WHERE o.order_number = %s AND t.status = %s",
            (number, status)).fetchone()[0]

    def slot(self, code: str) -> tuple[int, int]:
        return self.db.execute("SELECT reserved, sold FROM payments.ticket_slots WHERE code = %s",
                               (code,)).fetchone()

    def variant(self, sku: str) -> tuple[int, int]:
        return self.db.execute("SELECT reserved_stock, sold FROM payments.product_variants WHERE sku = %s",
                               (sku,)).fetchone()

    def decisions(self, number: str, source: str | None = None) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT outcome FROM payments.webhook_logs"
            " WHERE order_number = %s AND event_type = 'gateway_status'"
            " AND (%s::text IS NULL OR source = %s) ORDER BY id", (number, source, source))]

    def reviews(self, number: str) -> str | None:
        """The order's open review reasons, sorted, comma-separated; None when none."""
        return self.db.execute(
            "SELECT string_agg(r.reason, ',' ORDER BY r.reason) FROM payments.order_reviews r"
            " JOIN payments.orders o ON o.id = r.order_id"
            " WHERE o.order_number = %s AND r.resolved_at IS NULL",
            (number,)).fetchone()[0]

    def effect_count(self, number: str, effect: str) -> int:
        """How often a side-effect really happened for the order (webhook, sync or repair)."""
        return self.db.execute(
            "SELECT count(*) FROM payments.webhook_logs WHERE order_number = %s"
            " AND (detail->'effects' @> %s OR detail->>'effect' = %s)",
            (number, Jsonb([{"effect": effect}]), effect)).fetchone()[0]

    def books_balance(self) -> None:
        assert_books_balance(self.db)


@pytest.fixture()
def world(db: psycopg.Connection, db_url: str, tmp_path: Path) -> Iterator[World]:
    for code, capacity in SLOTS.items():
        db.execute("SELECT payments.create_ticket_slot(%s, %s)", (code, capacity))
    for sku, stock in VARIANTS.items():
        db.execute("SELECT payments.create_product_variant(%s, %s)", (sku, stock))
    port = free_port()
    sim_app = create_app(SERVER_KEY, notify_url=f"http://127.0.0.1:{port}/midtrans/notification",
                         retry_scale=RETRY_SCALE, notify_timeout=15)
    with asgi_server(sim_app) as sim:
        w = World(db=db, db_url=db_url, sim_app=sim_app, sim=sim, port=port, log_dir=tmp_path)
        try:
            yield w
        finally:
            w.stop_serve()
            for log in w.serve_logs:
                text = log.read_text(errors="replace")
                assert SERVER_KEY not in text, f"{log.name} shows the server key"
                print(f"--- {log.name} (last lines)\n" + "\n".join(text.splitlines()[-15:]))


# -- webhook failure, expiry, duplicates, ordering -----------------------------------------


def test_webhook_endpoint_down_is_healed_by_sync_and_late_retries_change_nothing(world: World) -> None:
    """Midtrans cannot reach `serve` (it is down): sync issues the tickets and
    the pickup code; Midtrans' retries, arriving once `serve` is back, apply
    nothing a second time (the pending one arrives after the settlement)."""
    world.ticket_order("DOWN-T", quantity=2)
    world.product_order("DOWN-P", quantity=3)
    for number, amount in (("DOWN-T", 150000), ("DOWN-P", 90000)):
        world.pay(number, amount)               # Midtrans notifies `pending` ...
        world.act(number, "settle")             # ... and `settlement`: both fail
    eventually(lambda: {(d["order_id"], d["transaction_status"]) for d in world.deliveries()
                        if d["http_status"] == "error"} == {("DOWN-T", "pending"), ("DOWN-T", "settlement"),
                                                            ("DOWN-P", "pending"), ("DOWN-P", "settlement")},
               what="every first delivery to fail")
    assert world.status("DOWN-T") == world.status("DOWN-P") == "pending"

    totals = world.sync()
    assert totals["checked"] == 2 and totals["changed"] == 2 and totals["errors"] == 0
    assert world.tickets("DOWN-T") == 2
    pickup = world.order("DOWN-P")["pickup_code"]
    assert pickup and len(pickup) == 9 and pickup[4] == "-"
    assert world.slot("GIG") == (0, 2) and world.variant("TEE") == (0, 3)

    world.start_serve()
    eventually(lambda: sum(d["http_status"] == 200 for d in world.deliveries()) == 4, timeout=45,
               what="Midtrans' retries to reach serve")
    world.quiet()
    for number in ("DOWN-T", "DOWN-P"):
        assert world.decisions(number, "sync") == ["paid"]
        assert sorted(world.decisions(number, "webhook")) == ["noop", "stale_ignored"]
    assert world.effect_count("DOWN-T", "tickets_issued") == 1
    assert world.effect_count("DOWN-P", "stock_confirmed") == 1
    assert world.order("DOWN-P")["pickup_code"] == pickup, "the pickup code never changes"
    assert world.tickets("DOWN-T") == 2 and world.tickets("DOWN-T", "void") == 0
    world.books_balance()


def test_expiry_releases_once_and_late_webhooks_change_nothing(world: World) -> None:
    world.start_serve()
    world.ticket_order("EXP-T", quantity=3)
    world.product_order("EXP-P", quantity=2)
    world.pay("EXP-T", 150000)
    world.pay("EXP-P", 90000)
    world.quiet()
    world.past_expiry("EXP-T", "EXP-P")
    assert world.slot("GIG") == (3, 0) and world.variant("TEE") == (2, 0)

    # Midtrans' `expire` notification races reconcile's own apply: either releases, once
    assert world.reconcile()["expired_at_midtrans"] == 2
    assert world.status("EXP-T") == world.status("EXP-P") == "expired"
    assert world.slot("GIG") == (0, 0) and world.variant("TEE") == (0, 0)

    # Midtrans' own `expire` notification arrives after the release, then again
    # and again (a retried and a re-sent copy, the old `pending` too)
    for number in ("EXP-T", "EXP-P"):
        world.control(f"/notify/{number}", {"faults": {"duplicate": 3}})
    world.quiet()
    assert world.reconcile()["mismatches_found"] == 0
    assert world.sync()["checked"] == 0, "an expired order is not pending: nothing to sync"
    for number, effect in (("EXP-T", "capacity_released"), ("EXP-P", "stock_released")):
        assert world.effect_count(number, effect) == 1, f"{number} released more than once"
        assert world.decisions(number).count("released") == 1
        webhook = world.decisions(number, "webhook")
        assert len(webhook) == 1 + 1 + 4, webhook       # pending, expire, 4 late copies
        assert webhook[0] == "noop" and webhook[-4:] == ["noop"] * 4
    assert world.slot("GIG") == (0, 0) and world.variant("TEE") == (0, 0)
    assert world.tickets("EXP-T") == 0 and world.order("EXP-P")["pickup_code"] is None
    world.books_balance()


def test_ten_copies_of_a_settlement_apply_once(world: World) -> None:
    world.start_serve()
    world.ticket_order("DUP-T", quantity=4)
    world.product_order("DUP-P", quantity=2)
    for number, amount in (("DUP-T", 150000), ("DUP-P", 90000)):
        world.pay(number, amount, notify=False)
        world.act(number, "settle", faults={"duplicate": 9})
    world.quiet()
    for number in ("DUP-T", "DUP-P"):
        assert len(world.deliveries(number)) == 10
        assert sorted(world.decisions(number)) == ["noop"] * 9 + ["paid"]
        assert world.status(number) == "paid"
    assert world.tickets("DUP-T") == 4 and world.slot("GIG") == (0, 4)
    assert world.effect_count("DUP-T", "tickets_issued") == 1
    assert world.effect_count("DUP-P", "stock_confirmed") == 1
    assert world.variant("TEE") == (0, 2)
    assert world.db.execute("SELECT count(DISTINCT pickup_code) FROM payments.orders"
                            " WHERE order_number = 'DUP-P'").fetchone()[0] == 1
    world.books_balance()


def test_pending_delivered_after_settlement_is_ignored(world: World) -> None:
    world.start_serve()
    world.ticket_order("ORD-T", quantity=2)
    world.product_order("ORD-P", quantity=1)
    for number, amount in (("ORD-T", 150000), ("ORD-P", 90000)):
        world.pay(number, amount, faults={"hold": True})      # `pending`, held back
        world.act(number, "settle", faults={"hold": True})    # `settlement`, held back
    assert world.control("/release-held")["released"] == 4   # most recent first: settlement, pending
    world.quiet()
    for number in ("ORD-T", "ORD-P"):
        delivered = [d["transaction_status"] for d in world.deliveries(number) if d["http_status"] == 200]
        assert delivered == ["settlement", "pending"]
        assert world.decisions(number) == ["paid", "stale_ignored"]
        assert world.status(number) == "paid"
    assert world.tickets("ORD-T") == 2
    world.books_balance()


def test_settlement_reversed_to_deny_voids_and_returns_everything(world: World) -> None:
    world.start_serve()
    world.ticket_order("REV-T", quantity=2)
    world.product_order("REV-P", quantity=2)
    settlements = {}
    for number, amount, method in (("REV-T", 150000, "bank_transfer"), ("REV-P", 90000, "cstore")):
        world.pay(number, amount, payment_type=method, notify=False)
        settlements[number] = world.act(number, "settle")["notification"]
    world.quiet()
    assert world.tickets("REV-T") == 2 and world.slot("GIG") == (0, 2) and world.variant("TEE") == (0, 2)

    for number in ("REV-T", "REV-P"):
        world.act(number, "reverse")            # Permata / Indomaret: settlement -> deny
    world.quiet()
    # the original settlement, retried after the reversal, is stale
    for body in settlements.values():
        response = httpx.post(world.notify_url, json=body, timeout=10)
        assert response.status_code == 200 and response.json()["decision"] == "stale_ignored"
    for number in ("REV-T", "REV-P"):
        # the goods come back at once; the payment window is still open, so the
        # customer may pay again: the order holds its reservation meanwhile
        assert (world.status(number), world.reviews(number)) == ("pending", "payment_reversed")
        assert world.decisions(number) == ["paid", "reversed", "stale_ignored"]
    assert world.tickets("REV-T") == 0 and world.tickets("REV-T", "void") == 2
    assert world.order("REV-P")["pickup_code"] is None
    assert world.slot("GIG") == (2, 0) and world.variant("TEE") == (2, 0)
    assert world.reconcile()["mismatches_found"] == 0
    world.books_balance()

    # the window closes: reconcile past expiry finds nothing live at Midtrans and releases
    world.past_expiry("REV-T", "REV-P")
    totals = world.reconcile()
    assert totals["repaired"] == 0 and totals["checked"] == 2 and totals["changed"] == 2
    assert world.status("REV-T") == world.status("REV-P") == "expired"
    assert world.reviews("REV-T") == "payment_reversed", "the review stays open for a person"
    assert world.slot("GIG") == (0, 0) and world.variant("TEE") == (0, 0)
    world.books_balance()


def test_reversal_then_new_payment_converges_in_any_delivery_order(world: World) -> None:
    """Permata settlement reversed to deny, then the customer pays again with a
    new transaction. Midtrans' final word: paid once (tx2). The state machine: any
    delivery order converges to the same state -- also when tx2's settlement
    arrives before tx1's deny."""
    world.start_serve()
    for number in ("RP-INORDER", "RP-REORDER"):
        world.ticket_order(number, quantity=2)
        world.pay(number, 150000, notify=False)
        world.act(number, "settle")
    world.quiet()
    world.act("RP-INORDER", "reverse")
    world.quiet()
    world.act("RP-INORDER", "pay_again", notify=False)
    world.act("RP-INORDER", "settle")
    world.act("RP-REORDER", "reverse", faults={"hold": True})
    world.act("RP-REORDER", "pay_again", notify=False)
    world.act("RP-REORDER", "settle", faults={"hold": True})
    assert world.control("/release-held")["released"] == 2      # tx2 settlement, then tx1 deny
    world.quiet()
    assert [d["transaction_status"] for d in world.deliveries("RP-REORDER")][-2:] == ["settlement", "deny"]
    for number in ("RP-INORDER", "RP-REORDER"):
        assert world.status(number) == "paid", (number, world.decisions(number))
        assert world.tickets(number) == 2
    assert world.slot("GIG") == (0, 4)
    world.books_balance()


def test_a_reversed_payment_stays_reversed_whatever_older_attempts_report(world: World) -> None:
    """tx1 expired, tx2 (Permata) settled and was reversed to deny within
    minutes. Delivered: tx2's deny, then tx1's late `expire`, then the retried
    tx2 `settlement`. Midtrans' final word: nobody paid. A late no-op from an
    older attempt must not make tx2's stale settlement look like a new payment."""
    world.start_serve()
    world.ticket_order("OLD-T", quantity=2)
    tx1 = world.pay("OLD-T", 150000, notify=False)["transaction"]["transaction_id"]
    world.act("OLD-T", "expire", notify=False)
    world.act("OLD-T", "pay_again", notify=False)
    world.act("OLD-T", "settle", faults={"hold": True})     # tx2 settlement: first attempt fails
    world.act("OLD-T", "reverse")                           # tx2 deny arrives
    world.quiet()
    world.control(f"/notify/{tx1}")                         # tx1 `expire`, late
    world.quiet()
    world.control("/release-held")                          # tx2 `settlement`, retried
    world.quiet()
    orders = httpx.get(f"{world.sim}/_sim/transactions", timeout=10).json()["orders"]
    midtrans = [t["transaction_status"] for t in orders[0]["transactions"]]
    assert midtrans == ["expire", "deny"]
    assert world.status("OLD-T") in ("failed", "expired"), world.decisions("OLD-T")
    assert world.tickets("OLD-T") == 0 and world.slot("GIG") == (0, 0)
    world.books_balance()


def test_reversed_then_refunded_payments_leave_nothing_standing(world: World) -> None:
    """tx2 pays, its reversal (deny) is first lost; the customer pays again
    (tx3), which is partially refunded, then -- after tx2's deny finally
    arrives -- fully refunded. Midtrans' final word: no payment stands, so the
    order is refunded and holds nothing. A flag-only event (partial_refund) of
    another transaction must not hide tx2's reversal."""
    world.start_serve()
    world.ticket_order("GONE2-T", quantity=2)
    tx2 = world.pay("GONE2-T", 150000, notify=False)["transaction"]["transaction_id"]
    world.act("GONE2-T", "settle")
    world.quiet()
    assert world.status("GONE2-T") == "paid"
    world.act("GONE2-T", "reverse", faults={"drop": True})         # tx2 deny, not delivered yet
    world.act("GONE2-T", "pay_again", notify=False)                 # tx3
    world.act("GONE2-T", "settle", faults={"drop": True})
    world.act("GONE2-T", "partial_refund")
    world.quiet()
    world.control(f"/notify/{tx2}")                                 # tx2 deny, retried
    world.quiet()
    world.act("GONE2-T", "refund")                                  # tx3 fully refunded
    world.quiet()
    orders = httpx.get(f"{world.sim}/_sim/transactions", timeout=10).json()["orders"]
    assert [t["transaction_status"] for t in orders[0]["transactions"]] == ["deny", "refund"]
    assert world.status("GONE2-T") == "refunded", world.decisions("GONE2-T")
    assert world.tickets("GONE2-T") == 0 and world.slot("GIG") == (0, 0)
    world.books_balance()


def test_refund_after_paid_returns_everything(world: World) -> None:
    world.start_serve()
    world.ticket_order("REF-T", quantity=2)
    world.product_order("REF-P", quantity=1)
    for number, amount in (("REF-T", 150000), ("REF-P", 90000)):
        world.pay(number, amount, notify=False)
        world.act(number, "settle")
    world.quiet()
    assert world.status("REF-T") == world.status("REF-P") == "paid"
    for number in ("REF-T", "REF-P"):
        world.act(number, "refund", faults={"duplicate": 2})
    world.quiet()
    for number in ("REF-T", "REF-P"):
        assert world.status(number) == "refunded"
        assert world.decisions(number) == ["paid", "refunded", "noop", "noop"]
    assert world.tickets("REF-T") == 0 and world.tickets("REF-T", "void") == 2
    assert world.slot("GIG") == (0, 0) and world.variant("TEE") == (0, 0)
    assert world.effect_count("REF-T", "capacity_released") == 1
    assert world.effect_count("REF-P", "stock_released") == 1
    world.books_balance()


# -- late payments ------------------------------------------------------------------------------


def _expire_at_midtrans(world: World, *numbers: str) -> None:
    world.past_expiry(*numbers)
    totals = world.reconcile()
    assert totals["expired_at_midtrans"] == len(numbers)
    world.quiet()
    for number in numbers:
        assert world.status(number) == "expired"


def test_paid_again_after_expiry_with_free_capacity_reacquires(world: World) -> None:
    """An expired order_id is paid again at Midtrans with a new transaction_id:
    capacity / stock is free, so it is re-acquired and the order fulfilled."""
    world.start_serve()
    world.ticket_order("LATE-T", quantity=2, slot="SMALL")
    world.product_order("LATE-P", quantity=1, sku="CAP")
    world.pay("LATE-T", 150000)
    world.pay("LATE-P", 90000)
    world.quiet()
    _expire_at_midtrans(world, "LATE-T", "LATE-P")
    assert world.slot("SMALL") == (0, 0) and world.variant("CAP") == (0, 0)

    for number in ("LATE-T", "LATE-P"):
        world.act(number, "pay_again", faults={"duplicate": 1})
        world.act(number, "settle", faults={"duplicate": 2})
    world.quiet()
    for number in ("LATE-T", "LATE-P"):
        order = world.order(number)
        assert (order["status"], order["needs_review"]) == ("paid", False)
        assert world.decisions(number, "webhook").count("late_payment") == 1
    assert world.tickets("LATE-T") == 2
    assert world.slot("SMALL") == (0, 2) and world.variant("CAP") == (0, 1)
    world.books_balance()


def test_paid_again_after_expiry_without_capacity_is_flagged_and_never_oversold(world: World) -> None:
    world.start_serve()
    world.ticket_order("GONE-T", quantity=2, slot="SMALL")
    world.product_order("GONE-P", quantity=1, sku="CAP")
    world.pay("GONE-T", 150000)
    world.pay("GONE-P", 90000)
    world.quiet()
    _expire_at_midtrans(world, "GONE-T", "GONE-P")
    # the released seats and the last cap are sold to someone else
    world.ticket_order("NEXT-T", quantity=2, slot="SMALL")
    world.product_order("NEXT-P", quantity=1, sku="CAP")
    for number, amount in (("NEXT-T", 150000), ("NEXT-P", 90000)):
        world.pay(number, amount, notify=False)
        world.act(number, "settle")
    world.quiet()
    assert world.slot("SMALL") == (0, 2) and world.variant("CAP") == (0, 1)

    for number in ("GONE-T", "GONE-P"):
        world.act(number, "pay_again", notify=False)
        world.act(number, "settle", faults={"duplicate": 2})
    world.quiet()
    for number in ("GONE-T", "GONE-P"):
        assert (world.status(number), world.reviews(number)) == ("paid", "paid_after_release"), \
            "the money fact is kept and flagged, never dropped"
        assert "late_payment_review" in world.decisions(number)
    assert world.tickets("GONE-T") == 0 and world.order("GONE-P")["pickup_code"] is None
    assert world.slot("SMALL") == (0, 2) and world.variant("CAP") == (0, 1), "nothing oversold"
    # sync and reconcile leave it to a person
    world.sync()
    assert world.reconcile()["repaired"] == 0
    assert world.reviews("GONE-T") == "paid_after_release"
    world.books_balance()


def test_local_expiry_then_payment_of_the_open_transaction_is_a_late_payment(world: World) -> None:
    """PAYMENTS_EXPIRE_AT_MIDTRANS=false: reconcile expires the order locally
    while its Midtrans transaction is still pending (and already known to us
    through the `pending` notification). The customer then pays that very
    transaction: a payment of a released order is a late payment (re-acquire,
    or flag paid_after_release) -- never ignored as stale."""
    world.start_serve()
    world.ticket_order("LOC-T", quantity=2)
    world.product_order("LOC-P", quantity=1)
    world.pay("LOC-T", 150000)
    world.pay("LOC-P", 90000)
    world.quiet()
    assert world.db.execute("SELECT count(*) FROM payments.gateway_transactions t JOIN payments.orders o"
                            " ON o.id = t.order_id WHERE o.order_number = 'LOC-T' AND t.stage = 10"
                            ).fetchone()[0] == 1, "the pending transaction is in the ledger"
    world.past_expiry("LOC-T", "LOC-P")
    world.reconcile(PAYMENTS_EXPIRE_AT_MIDTRANS="false")
    assert world.status("LOC-T") == world.status("LOC-P") == "expired"
    assert world.slot("GIG") == (0, 0)

    for number in ("LOC-T", "LOC-P"):
        world.act(number, "settle")             # the customer pays the still-open transaction
    world.quiet()
    for number in ("LOC-T", "LOC-P"):
        assert world.decisions(number, "webhook")[-1] == "late_payment", world.decisions(number)
        order = world.order(number)
        assert (order["status"], order["needs_review"]) == ("paid", False)
    assert world.tickets("LOC-T") == 2 and world.slot("GIG") == (0, 2)
    world.books_balance()


# -- fraud and amounts ------------------------------------------------------------------------


def test_fraud_challenge_then_accept_pays_and_clears_the_flag(world: World) -> None:
    world.start_serve()
    world.ticket_order("FRD-T", quantity=2)
    world.product_order("FRD-P", quantity=1)
    for number, amount in (("FRD-T", 150000), ("FRD-P", 90000)):
        world.pay(number, amount, payment_type="credit_card")
        world.act(number, "capture", fraud_status="challenge")
    world.quiet()
    for number in ("FRD-T", "FRD-P"):
        assert (world.status(number), world.reviews(number)) == ("pending", "fraud_challenge")
    assert world.tickets("FRD-T") == 0 and world.slot("GIG") == (2, 0)
    world.books_balance()

    for number in ("FRD-T", "FRD-P"):
        world.act(number, "accept_challenge")   # capture, fraud_status accept
        world.act(number, "settle")
    world.quiet()
    for number in ("FRD-T", "FRD-P"):
        assert (world.status(number), world.reviews(number)) == ("paid", None), \
            "Midtrans' accept closes the challenge review it opened"
        assert world.decisions(number) == ["noop", "flagged", "paid", "noop"]
    assert world.tickets("FRD-T") == 2 and world.slot("GIG") == (0, 2) and world.variant("TEE") == (0, 1)
    world.books_balance()


def test_amount_mismatch_is_flagged_and_never_fulfilled(world: World) -> None:
    world.start_serve()
    world.ticket_order("AMT-T", quantity=2, amount=150000)
    world.product_order("AMT-P", quantity=1, amount=90000)
    world.pay("AMT-T", 15000, notify=False)        # Midtrans charged another amount
    world.pay("AMT-P", 9000, notify=False)
    for number in ("AMT-T", "AMT-P"):
        world.act(number, "settle", faults={"duplicate": 1})
    world.quiet()
    world.sync()
    world.reconcile()
    for number in ("AMT-T", "AMT-P"):
        assert (world.status(number), world.reviews(number)) == ("pending", "amount_mismatch")
        assert world.decisions(number)[0] == "flagged" and "paid" not in world.decisions(number)
    assert world.tickets("AMT-T") == 0 and world.order("AMT-P")["pickup_code"] is None
    assert world.slot("GIG") == (2, 0) and world.variant("TEE") == (1, 0), "still held, nothing sold"
    world.books_balance()


# -- faults: processes, connections, the database, Midtrans ----------------------------------


def test_serve_killed_mid_burst_loses_and_doubles_nothing(world: World) -> None:
    """SIGKILL `serve` while Midtrans is delivering a burst of settlements, start
    it again: Midtrans' retries and one sync leave every order paid exactly once."""
    orders = [f"BURST-{i:02d}" for i in range(40)]
    for i, number in enumerate(orders):
        if i % 2:
            world.product_order(number, quantity=1)
        else:
            world.ticket_order(number, quantity=1)
        world.sim_app.create_transaction(number, "90000.00" if i % 2 else "150000.00", "bank_transfer",
                                         notify=False)
    world.start_serve()

    def settle_all() -> None:
        for number in orders:
            world.sim_app.transition(number, "settle")
            time.sleep(0.02)

    settler = threading.Thread(target=settle_all)
    settler.start()
    paid = lambda: world.db.execute(  # noqa: E731
        "SELECT count(*) FROM payments.orders WHERE status = 'paid'").fetchone()[0]
    eventually(lambda: paid() >= 8, what="the first settlements to land")
    assert world.serve is not None
    world.serve.send_signal(signal.SIGKILL)
    world.serve.wait()
    at_kill = paid()
    settler.join()
    assert at_kill < len(orders), "the kill must land in the middle of the burst"
    time.sleep(0.3)
    world.start_serve()

    eventually(lambda: paid() == len(orders), timeout=45, what="Midtrans' retries to deliver the rest")
    world.quiet(timeout=60)
    assert any(d["http_status"] != 200 for d in world.deliveries()), "some deliveries hit the dead process"
    assert world.sync()["checked"] == 0
    assert world.reconcile()["mismatches_found"] == 0
    for number in orders:
        assert world.decisions(number).count("paid") == 1, number
    active = world.db.execute("SELECT count(*) FROM payments.tickets WHERE status = 'active'").fetchone()[0]
    assert active == 20
    assert world.slot("GIG") == (0, 20) and world.variant("TEE") == (0, 20)
    world.books_balance()


def _blocked_backend(conn: psycopg.Connection, like: str, timeout: float = 15.0) -> int:
    found: list[int] = []

    def check() -> bool:
        found[:] = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE %s", (like,))]
        return bool(found)

    eventually(check, timeout, f"a backend blocked in {like}")
    return found[0]


def test_backend_terminated_during_apply_is_healed_by_retries_and_sync(world: World) -> None:
    """The webhook's (and then a sync run's) database backend is killed with
    pg_terminate_backend while it waits inside apply_gateway_status: nothing is
    half-applied; Midtrans' retry (after a 503) and the next sync heal it."""
    world.start_serve()
    world.ticket_order("TERM-T", quantity=2)
    world.product_order("TERM-P", quantity=2)
    for number, amount in (("TERM-T", 150000), ("TERM-P", 90000)):
        world.pay(number, amount, notify=False)

    # 1. the webhook: hold the order row, let the notification block on it, kill its backend
    blocker = psycopg.connect(world.db_url)
    blocker.execute("SELECT 1 FROM payments.orders WHERE order_number = 'TERM-T' FOR UPDATE")
    world.act("TERM-T", "settle")
    pid = _blocked_backend(world.db, "%apply_gateway_status%")
    assert world.db.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    eventually(lambda: any(d["http_status"] == 503 for d in world.deliveries("TERM-T")),
               what="serve to answer 503 (database unavailable)")
    blocker.rollback()
    world.quiet()
    assert [d["http_status"] for d in world.deliveries("TERM-T")] == [503, 200]
    assert world.decisions("TERM-T") == ["paid"]

    # 2. a sync run: its webhook was dropped, its backend is killed while applying
    world.act("TERM-P", "settle", faults={"drop": True})
    blocker.execute("SELECT 1 FROM payments.orders WHERE order_number = 'TERM-P' FOR UPDATE")
    sync = subprocess.Popen([sys.executable, "-m", "runner.cli", "sync", "--once", "--json"], cwd=ROOT,
                            env=world.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = _blocked_backend(world.db, "%apply_gateway_status%")
        world.db.execute("SELECT pg_terminate_backend(%s)", (pid,))
        blocker.rollback()
        out, err = sync.communicate(timeout=60)
    finally:
        if sync.poll() is None:
            sync.kill()
        blocker.close()
    assert sync.returncode == 1, out + err
    assert json.loads(out.strip().splitlines()[-1])["errors"] == 1
    assert world.status("TERM-P") == "pending" and world.decisions("TERM-P") == []
    assert world.db.execute("SELECT count(*) FROM payments.runs WHERE error IS NOT NULL").fetchone()[0] == 1

    assert world.sync()["changed"] == 1
    for number in ("TERM-T", "TERM-P"):
        assert world.status(number) == "paid" and world.decisions(number).count("paid") == 1
    assert world.tickets("TERM-T") == 2 and world.order("TERM-P")["pickup_code"]
    assert world.slot("GIG") == (0, 2) and world.variant("TEE") == (0, 2)
    world.books_balance()


def _restart_database(server: Server, dbname: str) -> None:
    """Restart PostgreSQL when the harness owns the cluster; on a server it does
    not own, the closest thing it may do: cut every connection to the database
    and refuse new ones for a moment."""
    if server.data_dir is not None and server.bin_dir is not None:
        # not Server.restart(): without -l the new postmaster inherits pg_ctl's
        # captured stdout, and subprocess.run(capture_output=True) then waits
        # for that pipe to close, i.e. until PostgreSQL stops
        cmd = [str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-w", "-t", "60",
               "-l", str(server.data_dir.parent / "server.log"), "restart", "-m", "fast"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        wait_until_ready(server)
        return
    with server.admin() as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,))
        time.sleep(1.0)
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')


def test_postgres_restart_during_a_sync_run(pg_server: Server, db_url: str, tmp_path: Path) -> None:
    """PostgreSQL restarts while `payments sync --once` is applying answers: the
    run fails cleanly (exit 1), every order is either paid completely or still
    pending, and the next sync finishes the job. The test's own connection is
    reopened after the restart."""
    dbname = db_url.rsplit("/", 1)[1].split("?")[0]

    def connect() -> psycopg.Connection:
        return psycopg.connect(db_url, autocommit=True)

    orders = [f"PGR-{i:02d}" for i in range(24)]
    with connect() as conn:
        conn.execute("SELECT payments.create_ticket_slot('GIG', 100)")
        conn.execute("SELECT payments.create_product_variant('TEE', 100)")
        for i, number in enumerate(orders):
            kind, item = ("product", {"sku": "TEE"}) if i % 2 else ("ticket", {"slot": "GIG"})
            conn.execute(f"SELECT payments.create_{kind}_order(%s, %s, %s, 100000)",
                         (number, Jsonb([{**item, "quantity": 2}]), in_an_hour()))
    sim_app = create_app(SERVER_KEY)           # webhooks never arrive: only sync can tell
    with asgi_server(sim_app) as sim:
        for number in orders:
            sim_app.create_transaction(number, "100000.00", "bank_transfer", notify=False)
            sim_app.transition(number, "settle", {"notify": False})
        # every Status API answer takes 0.15 s, two at a time: the run lasts ~2 s
        httpx.post(f"{sim}/_sim/faults", json={"status_api": {"mode": "ok", "delay": 0.15}}, timeout=5)
        env = {**os.environ, "PAYMENTS_DATABASE_URL": db_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
               "MIDTRANS_API_BASE_URL": sim, "PAYMENTS_SYNC_MIN_AGE": "0s", "PAYMENTS_HTTP_CONCURRENCY": "2",
               "PAYMENTS_HTTP_TIMEOUT": "5s", "PAYMENTS_HTTP_RETRIES": "1"}
        cmd = [sys.executable, "-m", "runner.cli", "sync", "--once", "--json"]
        sync = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            with connect() as conn:
                eventually(lambda: conn.execute("SELECT count(*) FROM payments.orders WHERE status = 'paid'"
                                                ).fetchone()[0] >= 4, what="the sync run to get going")
            _restart_database(pg_server, dbname)
            out, err = sync.communicate(timeout=90)
        finally:
            if sync.poll() is None:
                sync.kill()
        assert sync.returncode == 1, out + err
        assert "Traceback" not in err, err

        with connect() as conn:
            paid = conn.execute("SELECT count(*) FROM payments.orders WHERE status = 'paid'").fetchone()[0]
            assert 4 <= paid < len(orders), "the restart landed in the middle of the run"
            assert_books_balance(conn)                 # half a run is still a consistent run

        httpx.post(f"{sim}/_sim/faults", json={"status_api": {"mode": "ok"}}, timeout=5)
        healed = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert healed.returncode == 0, healed.stdout + healed.stderr
        assert json.loads(healed.stdout.strip().splitlines()[-1])["changed"] == len(orders) - paid

    with connect() as conn:
        assert conn.execute("SELECT count(*) FROM payments.orders WHERE status = 'paid'").fetchone()[0] == 24
        per_order = conn.execute(
            "SELECT order_number, count(*) FILTER (WHERE outcome = 'paid') FROM payments.webhook_logs"
            " WHERE event_type = 'gateway_status' GROUP BY order_number").fetchall()
        assert sorted(per_order) == [(number, 1) for number in orders], "each order paid exactly once"
        assert conn.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 24)
        variant = conn.execute("SELECT reserved_stock, sold FROM payments.product_variants").fetchone()
        assert variant == (0, 24)
        assert_books_balance(conn)


def test_midtrans_status_api_outage_then_recovery(world: World) -> None:
    """While the Status API answers 5xx or times out, sync and reconcile change
    nothing (an order past expiry keeps its seats: nobody could ask Midtrans
    whether it was paid); when Midtrans recovers, the client's retries and the
    next runs settle everything."""
    world.start_serve()
    world.ticket_order("OUT-T", quantity=2)
    world.product_order("OUT-P", quantity=2)
    world.ticket_order("OUT-E", quantity=3)        # abandoned: pending at Midtrans, past expiry
    for number, amount in (("OUT-T", 150000), ("OUT-P", 90000), ("OUT-E", 150000)):
        world.pay(number, amount, notify=False)
    for number in ("OUT-T", "OUT-P"):
        world.act(number, "settle", faults={"drop": True})
    world.past_expiry("OUT-E")

    for mode in ("503", "500"):
        world.control("/faults", {"status_api": {"mode": mode, "count": None}})
        assert world.sync(expect_code=1)["errors"] == 3
        assert world.reconcile(expect_code=1)["errors"] == 1
    world.control("/faults", {"status_api": {"mode": "timeout", "count": 4}})
    assert world.sync(expect_code=1, PAYMENTS_HTTP_TIMEOUT="0.5s", PAYMENTS_HTTP_RETRIES="0")["errors"] == 3
    for number in ("OUT-T", "OUT-P", "OUT-E"):
        assert world.status(number) == "pending"
    assert world.slot("GIG") == (5, 0) and world.variant("TEE") == (2, 0)
    ok_runs = "SELECT count(*) FROM payments.runs WHERE ok AND kind <> 'prune'"
    assert world.db.execute(ok_runs).fetchone()[0] == 0
    world.books_balance()

    # recovering: the first answers still fail, the client's own retries get through
    world.control("/faults", {"status_api": {"mode": "503", "count": 2}})
    totals = world.sync(PAYMENTS_HTTP_RETRIES="3")
    assert totals["errors"] == 0 and totals["changed"] == 2
    world.control("/faults", {"status_api": {"mode": "timeout", "count": 1}})
    totals = world.reconcile(PAYMENTS_HTTP_TIMEOUT="0.5s", PAYMENTS_HTTP_RETRIES="3")
    assert totals["errors"] == 0 and totals["expired_at_midtrans"] == 1
    world.quiet()
    assert [world.status(n) for n in ("OUT-T", "OUT-P", "OUT-E")] == ["paid", "paid", "expired"]
    assert world.tickets("OUT-T") == 2 and world.order("OUT-P")["pickup_code"]
    assert world.slot("GIG") == (0, 2) and world.variant("TEE") == (0, 2)
    world.books_balance()
