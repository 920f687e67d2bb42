"""The Midtrans simulator (runner/simulator.py) driven through Midtrans' own
Python client, ``midtransclient``.

If the official client accepts an answer (and raises ``MidtransAPIError``
where it would for Midtrans), the simulator speaks Midtrans. The client is
pointed at a simulator served by uvicorn on loopback (``api_config``'s base
URLs); notifications go to a receiver on loopback that can also redirect.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import midtransclient
import pytest
from midtransclient import MidtransAPIError

from runner.signature import signature
from runner.simulator import RETRY_SCHEDULE, Simulator, create_app, status_code_for
from tests.servers import Receiver, asgi_server

KEY = "SB-Mid-server-midtransclient-test"
SCALE = 0.00005  # Midtrans' 2 m .. 3.5 h retry schedule shrinks to 6 ms .. 0.63 s
CANNOT_MODIFY = "Merchant cannot modify the status of the transaction"


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, Receiver]]:
    app = Receiver()
    with asgi_server(app) as url:
        yield url, app


@dataclass
class World:
    """A fresh simulator notifying the receiver's ``/default``, and clients for it."""

    base: str
    sim: Simulator
    hook: str
    receiver: Receiver

    def core(self, headers: dict[str, str] | None = None) -> midtransclient.CoreApi:
        core = midtransclient.CoreApi(is_production=False, server_key=KEY, custom_headers=dict(headers or {}),
                                      proxies={})
        core.api_config.CORE_SANDBOX_BASE_URL = self.base
        return core

    def snap(self, headers: dict[str, str] | None = None) -> midtransclient.Snap:
        snap = midtransclient.Snap(is_production=False, server_key=KEY, custom_headers=dict(headers or {}),
                                   proxies={})
        snap.api_config.SNAP_SANDBOX_BASE_URL = self.base + "/snap/v1"
        snap.api_config.CORE_SANDBOX_BASE_URL = self.base
        return snap

    def control(self, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> dict[str, Any]:
        response = httpx.post(f"{self.base}/_sim{path}", json=body or {})
        assert response.status_code == expect, response.text
        return response.json()

    def create(self, oid: str, payment_type: str = "gopay", amount: int = 150000,
               **extra: Any) -> dict[str, Any]:
        body = {"order_id": oid, "gross_amount": amount, "payment_type": payment_type, **extra}
        return self.control("/transactions", body, expect=201)["transaction"]

    def act(self, oid: str, action: str, **body: Any) -> dict[str, Any]:
        return self.control(f"/transactions/{quote(oid, safe='')}/{action}", body)

    def notes(self, oid: str) -> list[dict[str, Any]]:
        """Payloads of the order's notifications, in order of creation."""
        with self.sim.lock:
            return [n.payload for n in self.sim.notifications if n.order_id == oid]

    def deliveries(self, oid: str) -> list[dict[str, Any]]:
        with self.sim.lock:
            return [d for d in self.sim.deliveries if d["order_id"] == oid]

    def order(self, oid: str) -> dict[str, Any]:
        [order] = [o for o in httpx.get(f"{self.base}/_sim/transactions").json()["orders"]
                   if o["order_id"] == oid]
        return order


@pytest.fixture()
def world(receiver: tuple[str, Receiver]) -> Iterator[World]:
    url, rec = receiver
    sim = create_app(KEY, f"{url}/default", retry_scale=SCALE, notify_timeout=2.0)
    with asgi_server(sim) as base:
        yield World(base, sim, url, rec)


def order_id() -> str:
    return f"MC-{uuid.uuid4().hex[:10]}"


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def charge(core: midtransclient.CoreApi, oid: str, payment_type: str = "gopay", amount: Any = 150000,
           **extra: Any) -> dict[str, Any]:
    return core.charge({"payment_type": payment_type,
                        "transaction_details": {"order_id": oid, "gross_amount": amount}, **extra})


def assert_signed(body: dict[str, Any]) -> None:
    expected = signature(body["order_id"], body["status_code"], body["gross_amount"], KEY)
    assert body["signature_key"] == expected


def api_error(call: Callable[[], Any]) -> MidtransAPIError:
    with pytest.raises(MidtransAPIError) as info:
        call()
    return info.value


# ------------------------------------------------------------- status_code per source


@pytest.mark.parametrize(("payment_type", "create", "steps", "state", "notified", "answered"), [
    ("bank_transfer", {}, ["settle"], ("settlement", "accept"), "200", "200"),
    ("credit_card", {"card": "capture"}, [], ("capture", "accept"), "200", "200"),
    ("credit_card", {"card": "challenge"}, [], ("capture", "challenge"), "201", "201"),
    ("credit_card", {"card": "deny"}, [], ("deny", "deny"), "202", "202"),
    ("bank_transfer", {}, [], ("pending", "accept"), "201", "201"),
    ("credit_card", {"card": "authorize"}, [], ("authorize", "accept"), "200", "200"),
    ("gopay", {}, ["deny"], ("deny", "accept"), "202", "202"),
    ("bank_transfer", {}, ["cancel"], ("cancel", "accept"), "202", "200"),
    ("bank_transfer", {}, ["expire"], ("expire", "accept"), "202", "407"),
    ("bank_transfer", {}, ["fail"], ("failure", "accept"), "202", "202"),
    ("gopay", {}, ["settle", "refund"], ("refund", "accept"), "200", "200"),
    ("qris", {}, ["settle", "partial_refund"], ("partial_refund", "accept"), "200", "200"),
    ("credit_card", {"card": "capture"}, ["settle", "chargeback"], ("chargeback", "accept"), "200", "200"),
])
def test_status_code_depends_on_the_source(world: World, payment_type: str, create: dict[str, Any],
                                           steps: list[str], state: tuple[str, str], notified: str,
                                           answered: str) -> None:
    oid = order_id()
    world.create(oid, payment_type, **create)
    for step in steps:
        world.act(oid, step)
    note = world.notes(oid)[-1]
    assert (note["transaction_status"], note["fraud_status"], note["status_code"]) == (*state, notified)
    assert note["status_message"] == "midtrans payment notification"
    assert_signed(note)
    core = world.core()
    answer = core.transactions.status(oid)  # 407 (expire) is returned, not raised
    assert (answer["transaction_status"], answer["fraud_status"], answer["status_code"]) == (*state, answered)
    assert_signed(answer)
    # midtransclient's notification() helper asks the status API by transaction_id
    assert core.transactions.notification(json.dumps(note))["status_code"] == answered


def test_status_code_table_covers_every_source() -> None:
    for source in ("notification", "status", "action"):
        assert status_code_for("partial_chargeback", None, source) == "200"
        assert status_code_for("capture", "challenge", source) == "201"
    assert [status_code_for("expire", None, s) for s in ("notification", "status", "action")] == [
        "202", "407", "407"]
    assert [status_code_for("cancel", None, s) for s in ("notification", "status", "action")] == [
        "202", "200", "200"]
    assert [status_code_for("deny", "deny", s) for s in ("notification", "status", "action")] == [
        "202", "202", "200"]
    with pytest.raises(ValueError):
        status_code_for("settlement", None, "webhook")


def test_unknown_transaction_raises_in_the_client(world: World) -> None:
    core = world.core()
    for call in (lambda: core.transactions.status("nobody"), lambda: core.transactions.cancel("nobody"),
                 lambda: core.transactions.refund("nobody", {}), lambda: core.transactions.approve("nobody"),
                 lambda: core.capture({"transaction_id": "nobody"})):
        error = api_error(call)
        assert error.api_response_dict["status_code"] == "404"


# ---------------------------------------------------------------------- cancel, expire


@pytest.mark.parametrize("create", [{"payment_type": "bank_transfer"},
                                    {"payment_type": "credit_card", "card": "authorize"},
                                    {"payment_type": "credit_card", "card": "capture"},
                                    {"payment_type": "credit_card", "card": "challenge"}])
def test_cancel_before_settlement(world: World, create: dict[str, Any]) -> None:
    oid = order_id()
    before = world.create(oid, **create)
    answer = world.core().transactions.cancel(oid)
    assert (answer["status_code"], answer["status_message"], answer["transaction_status"]) == (
        "200", "Success, transaction is canceled", "cancel")
    assert answer["fraud_status"] == before["fraud_status"]
    assert_signed(answer)
    note = world.notes(oid)[-1]
    assert (note["transaction_status"], note["status_code"]) == ("cancel", "202")
    assert world.core().transactions.status(oid)["status_code"] == "200"


def test_cancel_after_settlement_or_when_final_is_412(world: World) -> None:
    settled, cancelled = order_id(), order_id()
    world.create(settled, "credit_card", card="capture")
    world.act(settled, "settle")
    world.create(cancelled, "bank_transfer")
    core = world.core()
    core.transactions.cancel(cancelled)
    for oid in (settled, cancelled):
        count = len(world.notes(oid))
        error = api_error(lambda oid=oid: core.transactions.cancel(oid))
        assert error.http_status_code == 200
        assert error.api_response_dict == {"status_code": "412", "status_message": CANNOT_MODIFY}
        assert len(world.notes(oid)) == count  # nothing changed, nothing sent
    assert core.transactions.status(settled)["transaction_status"] == "settlement"


def test_expire_answers_407_which_the_client_returns(world: World) -> None:
    oid = order_id()
    world.create(oid, "bank_transfer")
    answer = world.core().transactions.expire(oid)
    assert (answer["status_code"], answer["status_message"], answer["transaction_status"]) == (
        "407", "Success, transaction has expired", "expire")
    assert_signed(answer)
    assert world.notes(oid)[-1]["status_code"] == "202"
    error = api_error(lambda: world.core().transactions.expire(oid))
    assert error.api_response_dict["status_code"] == "412"


# ------------------------------------------------------------------------------ refunds


def test_full_refund_of_a_settled_gopay_payment(world: World) -> None:
    oid = order_id()
    txn = world.create(oid, "gopay")
    world.act(oid, "settle")
    answer = world.core().transactions.refund(oid, {})
    assert (answer["status_code"], answer["status_message"], answer["transaction_status"]) == (
        "200", "Success, refund request is approved", "refund")
    assert isinstance(answer["refund_chargeback_id"], int)
    assert answer["refund_amount"] == "150000.00"
    assert answer["refund_key"]  # generated
    for key in ("transaction_id", "order_id", "gross_amount", "payment_type", "transaction_time", "currency"):
        assert answer[key] == txn[key]

    status = world.core().transactions.status(oid)
    assert (status["transaction_status"], status["status_code"], status["refund_amount"]) == (
        "refund", "200", "150000.00")
    [refund] = status["refunds"]
    assert refund["refund_chargeback_id"] == answer["refund_chargeback_id"]
    assert refund["refund_key"] == answer["refund_key"]
    assert (refund["refund_amount"], refund["refund_method"], refund["reason"]) == (
        "150000.00", "online", "refund request from merchant")
    assert refund["created_at"] and refund["bank_confirmed_at"]
    note = world.notes(oid)[-1]
    assert (note["transaction_status"], note["status_code"]) == ("refund", "200")
    assert note["refunds"] == status["refunds"]
    assert_signed(note)


def test_partial_refunds_are_idempotent_per_refund_key(world: World) -> None:
    oid = order_id()
    world.create(oid, "qris")
    world.act(oid, "settle")
    core = world.core()
    first = core.transactions.refund(oid, {"refund_key": "k-1", "amount": 50000, "reason": "one shirt"})
    assert (first["transaction_status"], first["refund_amount"], first["refund_key"]) == (
        "partial_refund", "50000.00", "k-1")
    notified = len(world.notes(oid))

    again = core.transactions.refund(oid, {"refund_key": "k-1", "amount": 50000, "reason": "one shirt"})
    assert again == first  # the same answer; nothing more refunded, nothing sent
    assert len(world.notes(oid)) == notified
    assert core.transactions.status(oid)["refund_amount"] == "50000.00"

    too_much = api_error(lambda: core.transactions.refund(oid, {"refund_key": "k-2", "amount": 100001}))
    assert too_much.api_response_dict == {
        "status_code": "414", "status_message": "Refund request is rejected due to invalid amount"}

    second = core.transactions.refund(oid, {"refund_key": "k-2"})  # the rest
    assert (second["transaction_status"], second["refund_amount"]) == ("refund", "100000.00")
    assert second["refund_chargeback_id"] != first["refund_chargeback_id"]
    status = core.transactions.status(oid)
    assert status["refund_amount"] == "150000.00"
    assert [(r["refund_key"], r["refund_amount"], r["reason"]) for r in status["refunds"]] == [
        ("k-1", "50000.00", "one shirt"), ("k-2", "100000.00", "refund request from merchant")]
    assert [n["transaction_status"] for n in world.notes(oid)[-2:]] == ["partial_refund", "refund"]
    assert world.notes(oid)[-1]["refund_amount"] == "150000.00"
    assert core.transactions.refund(oid, {"refund_key": "k-1"}) == first  # a retry still replays
    nothing_left = api_error(lambda: core.transactions.refund(oid, {"refund_key": "k-3", "amount": 1}))
    assert nothing_left.api_response_dict["status_code"] == "412"


@pytest.mark.parametrize(("payment_type", "create", "steps"), [
    ("credit_card", {"card": "capture"}, []),          # captured but not settled: cancel it instead
    ("credit_card", {"card": "authorize"}, []),
    ("gopay", {}, []),                                 # pending
    ("gopay", {}, ["settle", "chargeback"]),
])
def test_refund_needs_a_settlement(world: World, payment_type: str, create: dict[str, Any],
                                   steps: list[str]) -> None:
    oid = order_id()
    world.create(oid, payment_type, **create)
    for step in steps:
        world.act(oid, step)
    for call in (world.core().transactions.refund, world.core().transactions.refundDirect):
        error = api_error(lambda call=call: call(oid, {"amount": 1000}))
        assert error.http_status_code == 200
        assert error.api_response_dict == {"status_code": "412", "status_message": CANNOT_MODIFY}


@pytest.mark.parametrize("create", [{"payment_type": "bank_transfer"}, {"payment_type": "echannel"},
                                    {"payment_type": "cstore", "store": "indomaret"}])
def test_bank_transfer_and_stores_cannot_be_refunded_through_the_api(world: World,
                                                                      create: dict[str, Any]) -> None:
    oid = order_id()
    world.create(oid, **create)
    world.act(oid, "settle")
    error = api_error(lambda: world.core().transactions.refund(oid, {}))
    assert error.api_response_dict["status_code"] == "412"
    assert "cannot be refunded through the API" in error.api_response_dict["status_message"]
    assert world.core().transactions.status(oid)["transaction_status"] == "settlement"


@pytest.mark.parametrize(("payment_type", "days", "refused"), [
    ("ovo", 6, False), ("ovo", 8, True), ("kredivo", 15, True), ("dana", 44, False), ("dana", 46, True),
    ("gopay", 170, False), ("gopay", 181, True), ("shopeepay", 300, False), ("qris", 46, True),
])
def test_refund_windows(world: World, payment_type: str, days: int, refused: bool) -> None:
    oid = order_id()
    world.create(oid, payment_type)
    world.act(oid, "settle")
    before = world.core().transactions.status(oid)["settlement_time"]
    aged = world.control(f"/transactions/{oid}/age", {"days": days})["transaction"]
    assert aged["settlement_time"] < before
    if refused:
        error = api_error(lambda: world.core().transactions.refund(oid, {"amount": 1000}))
        assert error.api_response_dict["status_code"] == "412"
        assert "refund window" in error.api_response_dict["status_message"]
        assert "has passed" in error.api_response_dict["status_message"]
    else:
        assert world.core().transactions.refund(oid, {"amount": 1000})["status_code"] == "200"


def test_direct_refund_and_a_bank_refusal(world: World) -> None:
    oid = order_id()
    world.create(oid, "shopeepay")
    world.act(oid, "settle")
    core = world.core()
    faults = world.control("/faults", {"direct_refund": {"deny_by_bank": 1}})
    assert faults["direct_refund"] == {"deny_by_bank": 1}
    notified = len(world.notes(oid))
    denied = core.transactions.refundDirect(oid, {"refund_key": "d-1", "amount": 10000})  # 202: no raise
    assert (denied["status_code"], denied["status_message"], denied["transaction_status"],
            denied["refund_amount"]) == ("202", "Refund denied by the bank", "settlement", "0.00")
    assert len(world.notes(oid)) == notified
    assert "refund_amount" not in core.transactions.status(oid)

    approved = core.transactions.refundDirect(oid, {"refund_key": "d-1", "amount": 10000})  # a retry
    assert (approved["status_code"], approved["status_message"], approved["transaction_status"]) == (
        "200", "Success, refund request is approved by the bank", "partial_refund")
    assert approved["refund_amount"] == "10000.00"
    assert core.transactions.status(oid)["refunds"][0]["refund_key"] == "d-1"
    note = world.notes(oid)[-1]
    assert (note["transaction_status"], note["status_code"], note["refund_amount"]) == (
        "partial_refund", "200", "10000.00")
    assert world.control("/faults", {"direct_refund": {"deny_by_bank": 0}})["direct_refund"] == {
        "deny_by_bank": 0}


@pytest.mark.parametrize("payment_type", ["ovo", "dana"])
def test_direct_refund_is_not_for_every_payment_type(world: World, payment_type: str) -> None:
    oid = order_id()
    world.create(oid, payment_type)
    world.act(oid, "settle")
    error = api_error(lambda: world.core().transactions.refundDirect(oid, {}))
    assert error.api_response_dict["status_code"] == "412"
    assert world.core().transactions.refund(oid, {})["transaction_status"] == "refund"  # the Refund API can


def test_malformed_refund_request_is_a_validation_error(world: World) -> None:
    oid = order_id()
    world.create(oid, "gopay")
    world.act(oid, "settle")
    for body in ({"amount": "lots"}, {"refund_key": "no spaces please"}, {"reason": 5}):
        error = api_error(lambda body=body: world.core().transactions.refund(oid, body))
        assert error.http_status_code == 400
        assert error.api_response_dict["validation_messages"]


def test_control_refunds_are_recorded_like_api_refunds(world: World) -> None:
    oid = order_id()
    world.create(oid, "gopay")
    world.act(oid, "settle")
    world.act(oid, "partial_refund", amount=40000, refund_key="dash-1", reason="by the dashboard")
    rest = world.core().transactions.refund(oid, {"refund_key": "api-1"})
    assert (rest["transaction_status"], rest["refund_amount"]) == ("refund", "110000.00")
    status = world.core().transactions.status(oid)
    assert [(r["refund_key"], r["refund_amount"], r["reason"]) for r in status["refunds"]] == [
        ("dash-1", "40000.00", "by the dashboard"), ("api-1", "110000.00", "refund request from merchant")]
    assert len({r["refund_chargeback_id"] for r in status["refunds"]}) == 2


# ------------------------------------------------------------------------ approve / deny


def test_approve_and_deny_challenged_card_captures(world: World) -> None:
    core = world.core()
    approved, denied = order_id(), order_id()
    for oid in (approved, denied):
        answer = charge(core, oid, "credit_card", credit_card={"token_id": "challenge-4811"})
        assert (answer["status_code"], answer["transaction_status"], answer["fraud_status"]) == (
            "201", "capture", "challenge")
        assert world.notes(oid)[-1]["status_code"] == "201"

    answer = core.transactions.approve(approved)
    assert (answer["status_code"], answer["status_message"], answer["transaction_status"],
            answer["fraud_status"]) == ("200", "Success, transaction is approved", "capture", "accept")
    note = world.notes(approved)[-1]
    assert (note["transaction_status"], note["fraud_status"], note["status_code"]) == (
        "capture", "accept", "200")

    answer = core.transactions.deny(denied)
    assert (answer["status_code"], answer["status_message"], answer["transaction_status"],
            answer["fraud_status"]) == ("200", "Success, transaction is denied", "deny", "deny")
    assert_signed(answer)
    note = world.notes(denied)[-1]
    assert (note["transaction_status"], note["fraud_status"], note["status_code"]) == ("deny", "deny", "202")
    assert core.transactions.status(denied)["status_code"] == "202"

    for oid in (approved, denied):  # decided already: no longer challenged
        for call in (core.transactions.approve, core.transactions.deny):
            error = api_error(lambda call=call, oid=oid: call(oid))
            assert error.api_response_dict == {"status_code": "412", "status_message": CANNOT_MODIFY}


def test_approve_refuses_what_is_not_a_challenged_capture(world: World) -> None:
    pending = order_id()
    world.create(pending, "gopay")
    error = api_error(lambda: world.core().transactions.approve(pending))
    assert error.api_response_dict["status_code"] == "412"
    assert world.core().transactions.status(pending)["transaction_status"] == "pending"


# ------------------------------------------------------------- card charges, pre-auth


@pytest.mark.parametrize("extra", [{}, {"credit_card": {}}, {"credit_card": {"token_id": ""}},
                                   {"credit_card": {"token_id": 42}}])
def test_card_charge_needs_a_token(world: World, extra: dict[str, Any]) -> None:
    oid = order_id()
    error = api_error(lambda: charge(world.core(), oid, "credit_card", **extra))
    assert error.http_status_code == 200
    assert error.api_response_dict == {"status_code": "411",
                                       "status_message": "Token id is missing, invalid, or timed out"}
    assert world.sim.find(oid) is None


@pytest.mark.parametrize(("card", "state", "code"), [
    ({"token_id": "tok-ok"}, ("capture", "accept"), "200"),
    ({"token_id": "challenge-1"}, ("capture", "challenge"), "201"),
    ({"token_id": "deny-1"}, ("deny", "deny"), "202"),
    ({"token_id": "tok-ok", "type": "authorize"}, ("authorize", "accept"), "200"),
])
def test_card_charge_outcomes(world: World, card: dict[str, Any], state: tuple[str, str], code: str) -> None:
    oid = order_id()
    answer = charge(world.core(), oid, "credit_card", credit_card=card)  # 202 is not raised either
    assert (answer["transaction_status"], answer["fraud_status"], answer["status_code"]) == (*state, code)
    [note] = world.notes(oid)
    assert (note["transaction_status"], note["fraud_status"], note["status_code"]) == (*state, code)
    assert world.core().transactions.status(oid)["status_code"] == code


def test_pre_authorisation_then_capture_of_less(world: World) -> None:
    oid = order_id()
    core = world.core()
    auth = charge(core, oid, "credit_card", credit_card={"token_id": "tok", "type": "authorize"})
    assert (auth["status_message"], auth["transaction_status"]) == (
        "Success, Credit Card transaction is successful", "authorize")
    tid = auth["transaction_id"]
    too_much = api_error(lambda: core.capture({"transaction_id": tid, "gross_amount": 150001}))
    assert too_much.http_status_code == 400 and too_much.api_response_dict["validation_messages"]
    decimal = api_error(lambda: core.capture({"transaction_id": tid, "gross_amount": 10.5}))
    assert decimal.http_status_code == 400

    answer = core.capture({"transaction_id": auth["transaction_id"], "gross_amount": 120000})
    assert (answer["status_code"], answer["status_message"], answer["transaction_status"],
            answer["fraud_status"], answer["gross_amount"]) == (
        "200", "Success, Credit Card capture transaction is successful", "capture", "accept", "120000.00")
    assert_signed(answer)
    note = world.notes(oid)[-1]
    assert (note["transaction_status"], note["status_code"], note["gross_amount"]) == (
        "capture", "200", "120000.00")
    assert_signed(note)
    assert core.transactions.status(oid)["gross_amount"] == "120000.00"
    again = api_error(lambda: core.capture({"transaction_id": auth["transaction_id"]}))  # not authorize now
    assert again.api_response_dict == {"status_code": "412", "status_message": CANNOT_MODIFY}
    missing = api_error(lambda: core.capture({}))
    assert missing.http_status_code == 400


def test_control_made_authorisation_is_captured_in_full(world: World) -> None:
    oid = order_id()
    txn = world.create(oid, "credit_card", card="authorize")
    assert (txn["transaction_status"], txn["status_code"]) == ("authorize", "200")
    answer = world.core().capture({"transaction_id": txn["transaction_id"]})
    assert (answer["transaction_status"], answer["gross_amount"]) == ("capture", "150000.00")
    pending = order_id()
    card = world.create(pending, "credit_card")  # the control API's default card: pending (3-D Secure)
    error = api_error(lambda: world.core().capture({"transaction_id": card["transaction_id"]}))
    assert error.api_response_dict["status_code"] == "412"


# ------------------------------------------------------------------ fraud_status


@pytest.mark.parametrize(("payment_type", "extra", "fraud"), [
    ("gopay", {}, "accept"), ("qris", {}, "accept"), ("shopeepay", {}, "accept"),
    ("bank_transfer", {"bank_transfer": {"bank": "bca"}}, "accept"), ("echannel", {}, "accept"),
    ("akulaku", {}, "accept"), ("cstore", {"cstore": {"store": "alfamart"}}, "accept"),
    ("cstore", {}, "accept"), ("cstore", {"cstore": {"store": "indomaret"}}, None),
])
def test_fraud_status_of_non_card_payments(world: World, payment_type: str, extra: dict[str, Any],
                                           fraud: str | None) -> None:
    oid = order_id()
    answer = charge(world.core(), oid, payment_type, **extra)
    assert (answer["status_code"], answer["transaction_status"]) == ("201", "pending")
    world.act(oid, "settle")
    status = world.core().transactions.status(oid)
    note = world.notes(oid)[-1]
    for body in (answer, status, note):
        assert body.get("fraud_status") == fraud
    if payment_type == "cstore":
        assert status["store"] == extra.get("cstore", {}).get("store", "alfamart")


# ------------------------------------------------------------------- custom fields, expiry


def test_custom_fields_and_expiry_through_snap(world: World) -> None:
    oid = order_id()
    created = world.snap().create_transaction({
        "transaction_details": {"order_id": oid, "gross_amount": 200000},
        "custom_field1": "Toko Rani", "custom_field3": "RR",
        "expiry": {"start_time": "2026-01-02 10:00:00 +0700", "unit": "minutes", "duration": 30}})
    assert set(created) == {"token", "redirect_url"}
    order = world.order(oid)
    assert order["expiry"] == {"start_time": "2026-01-02 10:00:00 +0700", "unit": "minutes", "duration": 30}
    assert order["custom_fields"] == {"custom_field1": "Toko Rani", "custom_field3": "RR"}
    paid = httpx.post(created["redirect_url"], data={"choice": "pay", "payment_type": "gopay"})
    assert paid.status_code == 200
    status = world.snap().transactions.status(oid)
    assert (status["custom_field1"], status["custom_field3"]) == ("Toko Rani", "RR")
    assert "custom_field2" not in status
    for note in world.notes(oid):
        assert (note["custom_field1"], note["custom_field3"]) == ("Toko Rani", "RR")
        assert "custom_field2" not in note


@pytest.mark.parametrize("extra", [{"expiry": {"unit": "week", "duration": 1}},
                                   {"expiry": {"unit": "hour", "duration": 0}},
                                   {"expiry": "tomorrow"},
                                   {"custom_field2": "x" * 256}])
def test_snap_refuses_bad_expiry_and_custom_fields(world: World, extra: dict[str, Any]) -> None:
    oid = order_id()
    error = api_error(lambda: world.snap().create_transaction(
        {"transaction_details": {"order_id": oid, "gross_amount": 1000}, **extra}))
    assert error.http_status_code == 400 and error.api_response_dict["error_messages"]


def test_custom_fields_through_charge_and_control(world: World) -> None:
    oid = order_id()
    answer = charge(world.core(), oid, "bank_transfer", custom_field2="Jakarta")
    assert "custom_field2" not in answer  # the charge answer does not echo them (docs' sample)
    world.act(oid, "settle")
    status = world.core().transactions.status(oid)
    assert status["custom_field2"] == "Jakarta"
    assert "custom_field1" not in status and "custom_field3" not in status
    assert world.notes(oid)[-1]["custom_field2"] == "Jakarta"

    plain = order_id()
    charge(world.core(), plain, "gopay")
    unset = world.core().transactions.status(plain)
    assert not {"custom_field1", "custom_field2", "custom_field3"} & set(unset)

    other = order_id()
    world.create(other, "gopay", custom_field1="A", custom_field3="C")
    assert world.core().transactions.status(other)["custom_field3"] == "C"
    error = api_error(lambda: charge(world.core(), order_id(), "gopay", custom_field1=7))
    assert error.http_status_code == 400


# ----------------------------------------------------- X-Override / X-Append-Notification


def test_override_notification_sends_only_to_its_urls(world: World) -> None:
    oid = order_id()
    urls = [f"{world.hook}/override-1", f"{world.hook}/override-2"]
    core = world.core({"X-Override-Notification": ",".join(urls),
                       "X-Append-Notification": f"{world.hook}/append"})  # override wins
    charge(core, oid, "gopay")
    world.act(oid, "settle")
    wait_for(lambda: len(world.deliveries(oid)) == 4)
    assert sorted((d["url"], d["transaction_status"]) for d in world.deliveries(oid)) == sorted(
        (url, status) for url in urls for status in ("pending", "settlement"))
    assert all(d["http_status"] == 200 for d in world.deliveries(oid))
    for url in urls:
        path = url.removeprefix(world.hook)
        got = sorted(b["transaction_status"] for b in world.receiver.bodies(oid, path))
        assert got == ["pending", "settlement"]
    assert world.receiver.bodies(oid, "/default") == [] and world.receiver.bodies(oid, "/append") == []


def test_append_notification_adds_to_the_default_url(world: World) -> None:
    oid = order_id()
    snap = world.snap({"X-Append-Notification": f"{world.hook}/append"})
    created = snap.create_transaction({"transaction_details": {"order_id": oid, "gross_amount": 5000}})
    httpx.post(created["redirect_url"], data={"choice": "pending", "payment_type": "qris"})
    wait_for(lambda: len(world.deliveries(oid)) == 2)
    urls = sorted(d["url"] for d in world.deliveries(oid))
    assert urls == [f"{world.hook}/append", f"{world.hook}/default"]
    assert world.order(oid)["notification_urls"] == {"override": None, "append": [f"{world.hook}/append"]}


@pytest.mark.parametrize("header", ["X-Override-Notification", "X-Append-Notification"])
def test_more_than_three_notification_urls_is_a_validation_error(world: World, header: str) -> None:
    urls = ",".join(f"{world.hook}/u{i}" for i in range(4))
    core = world.core({header: urls})
    error = api_error(lambda: charge(core, order_id(), "gopay"))
    assert error.http_status_code == 400 and error.api_response_dict["validation_messages"]
    snap = world.snap({header: urls})
    error = api_error(lambda: snap.create_transaction({"transaction_details": {"order_id": order_id(),
                                                                               "gross_amount": 1}}))
    assert error.http_status_code == 400 and error.api_response_dict["error_messages"]


# --------------------------------------------------------------- notification redirects


def _charge_notifying(world: World, path: str) -> str:
    oid = order_id()
    charge(world.core({"X-Override-Notification": world.hook + path}), oid, "gopay")
    return oid


def _finished(world: World, oid: str) -> list[dict[str, Any]] | None:
    attempts = world.deliveries(oid)
    done = attempts and attempts[-1]["next_retry_in"] is None
    with world.sim.lock:
        states = {n.state for n in world.sim.notifications if n.order_id == oid}
    return attempts if done and states <= {"delivered", "failed"} else None


@pytest.mark.parametrize(("path", "final", "redirects"), [
    ("/r/307/2", "/r/307/0", 2),   # relative Location
    ("/a/308/5", "/a/308/0", 5),   # absolute Location, the most Midtrans follows
])
def test_307_and_308_are_followed_with_the_same_post(world: World, path: str, final: str,
                                                     redirects: int) -> None:
    oid = _charge_notifying(world, path)
    [attempt] = wait_for(lambda: _finished(world, oid))
    assert (attempt["http_status"], attempt["redirects"], attempt["attempt"]) == (200, redirects, 1)
    assert (attempt["url"], attempt["final_url"]) == (world.hook + path, world.hook + final)
    prefix = path.rsplit("/", 1)[0]
    hops = world.receiver.bodies(oid, prefix)
    assert len(hops) == redirects + 1 and all(hop == hops[0] for hop in hops)
    with world.receiver.lock:
        assert {c["method"] for c in world.receiver.calls if c["path"].startswith(prefix)} == {"POST"}
    assert_signed(hops[-1])


def test_a_sixth_redirect_fails_the_attempt_and_is_retried(world: World) -> None:
    oid = _charge_notifying(world, "/r/307/6")
    attempts = wait_for(lambda: _finished(world, oid))
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5, 6]
    assert {(a["http_status"], a["redirects"]) for a in attempts} == {("too_many_redirects", 5)}
    assert [a["next_retry_in"] for a in attempts[:-1]] == pytest.approx([d * SCALE for d in RETRY_SCHEDULE])
    with world.sim.lock:
        assert [n.state for n in world.sim.notifications if n.order_id == oid] == ["failed"]


@pytest.mark.parametrize("code", [301, 302, 303])
def test_301_302_303_end_delivery_without_retry(world: World, code: int) -> None:
    oid = _charge_notifying(world, f"/r/{code}/1")
    [attempt] = wait_for(lambda: _finished(world, oid))
    assert (attempt["http_status"], attempt["redirects"], attempt["next_retry_in"]) == (code, 0, None)
    assert len(world.receiver.bodies(oid, f"/r/{code}")) == 1  # the Location is not followed
    with world.sim.lock:
        assert [n.state for n in world.sim.notifications if n.order_id == oid] == ["failed"]
