"""The Midtrans simulator (runner/simulator.py), exercised over real HTTP.

Every simulator and every notification receiver here is served by uvicorn on
loopback (tests.servers.asgi_server) and spoken to with httpx, exactly as the
runner and a shop's webhook endpoint would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from runner.signature import basic_auth, signature
from runner.simulator import RETRY_SCHEDULE, Simulator, create_app
from tests.pgserver import free_port
from tests.servers import ROOT, Receiver, asgi_server, wait_http

KEY = "SB-Mid-server-simulator-test"
AUTH = {"Authorization": basic_auth(KEY)}
SCALE = 0.00005  # Midtrans' 2 m .. 3.5 h retry schedule shrinks to 6 ms .. 0.63 s
STATUS_FIELDS = {"status_code", "status_message", "transaction_id", "order_id", "merchant_id", "gross_amount",
                 "currency", "payment_type", "transaction_time", "transaction_status", "signature_key"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, Receiver]]:
    app = Receiver()
    with asgi_server(app) as url:
        yield url, app


@pytest.fixture(scope="module")
def plain() -> Iterator[str]:
    """A simulator without a notify_url (notifications are only recorded), shared by the module."""
    with asgi_server(create_app(KEY)) as url:
        yield url


@pytest.fixture()
def start() -> Iterator[Callable[..., tuple[str, Simulator]]]:
    """Start simulators for one test: start(notify_url, retry_scale=SCALE, notify_timeout=...)."""
    with ExitStack() as stack:
        def _start(notify_url: str | None, retry_scale: float = SCALE,
                   notify_timeout: float = 15.0) -> tuple[str, Simulator]:
            sim = create_app(KEY, notify_url, retry_scale=retry_scale, notify_timeout=notify_timeout)
            return stack.enter_context(asgi_server(sim)), sim
        yield _start


def order_id() -> str:
    return f"ORD-{uuid.uuid4().hex[:10]}"


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def sim_create(base: str, oid: str, payment_type: str = "bank_transfer", **extra: Any) -> dict[str, Any]:
    r = httpx.post(f"{base}/_sim/transactions",
                   json={"order_id": oid, "gross_amount": 150000, "payment_type": payment_type, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def act(base: str, oid: str, action: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{base}/_sim/transactions/{quote(oid, safe='')}/{action}", json=body)


def status(base: str, oid: str, **kw: Any) -> httpx.Response:
    return httpx.get(f"{base}/v2/{quote(oid, safe='')}/status", headers=AUTH, **kw)


def assert_signed(body: dict[str, Any]) -> None:
    expected = signature(body["order_id"], body["status_code"], body["gross_amount"], KEY)
    assert body["signature_key"] == expected


def deliveries(base: str) -> list[dict[str, Any]]:
    return httpx.get(f"{base}/_sim/deliveries").json()["deliveries"]


# ---------------------------------------------------------------- merchant API


def test_health_and_control_api_need_no_auth(plain: str) -> None:
    assert httpx.get(f"{plain}/_sim/health").status_code == 200
    assert httpx.get(f"{plain}/_sim/transactions").status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": basic_auth("wrong-key")},
                                     {"Authorization": "Bearer " + KEY}])
def test_merchant_api_requires_basic_auth(plain: str, headers: dict[str, str]) -> None:
    oid = order_id()
    sim_create(plain, oid, notify=False)
    details = {"transaction_details": {"order_id": order_id(), "gross_amount": 1000}}
    responses = [
        httpx.get(f"{plain}/v2/{oid}/status", headers=headers),
        httpx.post(f"{plain}/v2/{oid}/expire", headers=headers),
        httpx.post(f"{plain}/v2/{oid}/cancel", headers=headers),
        httpx.post(f"{plain}/v2/charge", headers=headers, json={"payment_type": "gopay", **details}),
        httpx.post(f"{plain}/snap/v1/transactions", headers=headers, json=details),
    ]
    for r in responses:
        assert r.status_code == 401, r.request.url
        assert r.json()["status_code"] == "401" and r.json()["status_message"]
    assert status(plain, oid).json()["transaction_status"] == "pending"  # nothing was expired


def test_snap_then_status_is_404_until_a_transaction_exists(plain: str) -> None:
    oid = order_id()
    r = httpx.post(f"{plain}/snap/v1/transactions", headers=AUTH,
                   json={"transaction_details": {"order_id": oid, "gross_amount": 250000}})
    assert r.status_code == 201
    token = r.json()["token"]
    assert uuid.UUID(token)
    assert r.json()["redirect_url"] == f"{plain}/snap/v2/vtweb/{token}"

    missing = status(plain, oid)
    assert missing.status_code == 404
    assert missing.json()["status_code"] == "404"
    assert missing.json()["status_message"] == "Transaction doesn't exist."
    assert uuid.UUID(missing.json()["id"])

    httpx.post(f"{plain}/_sim/faults", json={"status_api": {"mode": "not_found_in_body", "count": 1}})
    in_body = status(plain, oid)
    assert in_body.status_code == 200
    assert in_body.json()["status_code"] == "404"
    assert in_body.json()["status_message"] == "Transaction doesn't exist."
    assert status(plain, oid).status_code == 404  # count 1: back to a real 404

    # The customer's payment page: paying creates the transaction with the snap's amount.
    page = httpx.get(r.json()["redirect_url"])
    assert page.status_code == 200 and oid in page.text
    paid = httpx.post(r.json()["redirect_url"], data={"choice": "pay", "payment_type": "bank_transfer"})
    assert paid.status_code == 200
    body = status(plain, oid).json()
    assert (body["transaction_status"], body["gross_amount"]) == ("settlement", "250000.00")


def test_snap_refuses_a_second_token_for_the_same_order_id(plain: str) -> None:
    """One Snap session per order_id, as Midtrans: a second token request for an order
    whose first token has not led to a failed transaction is a 400, the first token
    stays the order's; after an expired transaction a new token is issued."""
    oid = order_id()
    details = {"transaction_details": {"order_id": oid, "gross_amount": 10000}}
    first = httpx.post(f"{plain}/snap/v1/transactions", headers=AUTH, json=details)
    assert first.status_code == 201
    again = httpx.post(f"{plain}/snap/v1/transactions", headers=AUTH, json=details)
    assert again.status_code == 400
    assert again.json() == {"error_messages": ["transaction_details.order_id has already been taken"]}
    order = next(o for o in httpx.get(f"{plain}/_sim/transactions").json()["orders"] if o["order_id"] == oid)
    assert (order["snap_token"], order["snap_requests"]) == (first.json()["token"], 2)

    # the customer starts paying, the attempt expires: Snap takes a new token request
    page = httpx.post(first.json()["redirect_url"],
                      data={"choice": "pending", "payment_type": "bank_transfer"})
    assert page.status_code == 200
    assert httpx.post(f"{plain}/_sim/transactions/{oid}/expire", json={"notify": False}).status_code == 200
    third = httpx.post(f"{plain}/snap/v1/transactions", headers=AUTH, json=details)
    assert third.status_code == 201 and third.json()["token"] != first.json()["token"]


def test_charge_creates_pending_transaction_in_midtrans_formats(plain: str) -> None:
    oid = f"ORD/{uuid.uuid4().hex[:6]} #1?x=y"  # must be URL-encoded in the path
    r = httpx.post(f"{plain}/v2/charge", headers=AUTH,
                   json={"payment_type": "bank_transfer",
                         "transaction_details": {"order_id": oid, "gross_amount": 150000}})
    assert r.status_code == 201
    charged = r.json()
    assert charged["status_code"] == "201" and charged["transaction_status"] == "pending"

    got = status(plain, oid)
    assert got.status_code == 200
    body = got.json()
    assert set(body) >= STATUS_FIELDS
    assert all(isinstance(v, str) for v in body.values())
    assert body["order_id"] == oid
    assert body["transaction_id"] == charged["transaction_id"] and uuid.UUID(body["transaction_id"])
    assert body["gross_amount"] == "150000.00"
    assert body["status_code"] == "201"
    assert body["currency"] == "IDR"
    assert body["payment_type"] == "bank_transfer"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body["transaction_time"])
    assert body["fraud_status"] == "accept"  # as in the docs' bank transfer samples
    assert "settlement_time" not in body
    assert_signed(body)
    # The transaction_id works in place of the order_id, as on Midtrans.
    assert status(plain, body["transaction_id"]).json()["order_id"] == oid
    # A second charge for a live order is refused the Midtrans way.
    again = httpx.post(f"{plain}/v2/charge", headers=AUTH,
                       json={"payment_type": "gopay", "transaction_details": {"order_id": oid,
                                                                              "gross_amount": 150000}})
    assert again.json()["status_code"] == "406"


def test_card_charge_carries_fraud_status(plain: str) -> None:
    oid = order_id()
    httpx.post(f"{plain}/v2/charge", headers=AUTH, json={
        "payment_type": "credit_card", "transaction_details": {"order_id": oid, "gross_amount": 99000.5},
        "credit_card": {"token_id": "tok-1"}})
    body = status(plain, oid).json()
    assert body["gross_amount"] == "99000.50"
    assert (body["transaction_status"], body["fraud_status"]) == ("capture", "accept")


# ------------------------------------------------------------- control actions

CHALLENGE = ("capture", {"fraud_status": "challenge"})


@pytest.mark.parametrize(("payment_type", "steps", "expected_status", "expected_fraud", "code"), [
    ("bank_transfer", [("settle", {})], "settlement", "accept", "200"),
    ("credit_card", [("capture", {})], "capture", "accept", "200"),
    ("credit_card", [CHALLENGE], "capture", "challenge", "201"),
    ("credit_card", [CHALLENGE, ("accept_challenge", {})], "capture", "accept", "200"),
    ("credit_card", [("capture", {"fraud_status": "deny"})], "deny", "deny", "202"),
    ("credit_card", [CHALLENGE, ("deny", {})], "deny", "deny", "202"),
    ("credit_card", [("capture", {}), ("settle", {})], "settlement", "accept", "200"),
    ("credit_card", [("capture", {}), ("cancel", {})], "cancel", "accept", "200"),
    ("bank_transfer", [("deny", {})], "deny", "accept", "202"),
    ("bank_transfer", [("cancel", {})], "cancel", "accept", "200"),
    ("bank_transfer", [("expire", {})], "expire", "accept", "407"),
    ("bank_transfer", [("fail", {})], "failure", "accept", "202"),
    ("bank_transfer", [("settle", {}), ("refund", {})], "refund", "accept", "200"),
    ("qris", [("settle", {}), ("partial_refund", {"amount": 50000})], "partial_refund", "accept", "200"),
    ("gopay", [("settle", {}), ("chargeback", {})], "chargeback", "accept", "200"),
    ("echannel", [("settle", {}), ("reverse", {})], "deny", "accept", "202"),
    ("cstore", [("settle", {}), ("reverse", {})], "deny", "accept", "202"),
    ("kredivo", [("settle", {})], "settlement", None, "200"),    # no fraud_status in the docs' samples
])
def test_control_transitions(plain: str, payment_type: str, steps: list[tuple[str, dict[str, Any]]],
                             expected_status: str, expected_fraud: str | None, code: str) -> None:
    oid = order_id()
    sim_create(plain, oid, payment_type)
    for action, body in steps:
        r = act(plain, oid, action, **body)
        assert r.status_code == 200, r.text
        assert r.json()["notification"]["transaction_status"] == r.json()["transaction"]["transaction_status"]
    body = status(plain, oid).json()
    assert (body["transaction_status"], body.get("fraud_status"), body["status_code"]) == (
        expected_status, expected_fraud, code)
    assert_signed(body)
    if any(action == "settle" for action, _ in steps):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body["settlement_time"])
    orders = httpx.get(f"{plain}/_sim/transactions").json()["orders"]
    [order] = [o for o in orders if o["order_id"] == oid]
    history = order["transactions"][-1]["history"]
    assert [h["action"] for h in history] == ["create"] + [a for a, _ in steps]
    assert history[-1]["transaction_status"] == expected_status


@pytest.mark.parametrize(("payment_type", "steps", "action"), [
    ("bank_transfer", ["expire"], "settle"),
    ("bank_transfer", ["settle"], "expire"),
    ("bank_transfer", [], "capture"),           # only cards are captured
    ("credit_card", [], "accept_challenge"),
    ("bank_transfer", [], "chargeback"),
    ("bank_transfer", [], "refund"),
    ("bank_transfer", ["settle"], "deny"),
    ("gopay", ["settle"], "reverse"),           # only Permata/Mandiri bill/convenience stores reverse
    ("bank_transfer", [], "pay_again"),
    ("bank_transfer", ["settle", "refund"], "settle"),
])
def test_illegal_transitions_are_409(plain: str, payment_type: str, steps: list[str], action: str) -> None:
    oid = order_id()
    sim_create(plain, oid, payment_type)
    for step in steps:
        assert act(plain, oid, step).status_code == 200
    before = status(plain, oid).json()
    r = act(plain, oid, action)
    assert r.status_code == 409 and r.json()["error"]
    assert status(plain, oid).json() == before


def test_unknown_action_and_order(plain: str) -> None:
    oid = order_id()
    sim_create(plain, oid)
    assert act(plain, oid, "teleport").status_code == 404
    assert act(plain, "no-such-order", "settle").status_code == 404
    create = f"{plain}/_sim/transactions"
    assert httpx.post(create, json={"order_id": oid, "gross_amount": -5}).status_code == 400
    assert httpx.post(create, json={"order_id": oid, "gross_amount": 5}).status_code == 409  # still pending


def test_control_create_options_and_age_are_validated(plain: str) -> None:
    create = f"{plain}/_sim/transactions"
    for body in ({"card": "authorize"},                                  # card applies to credit_card only
                 {"payment_type": "credit_card", "card": "teleport"},
                 {"store": "alfamart"},                                  # store applies to cstore only
                 {"payment_type": "cstore", "store": "circle-k"},
                 {"custom_field1": 5},
                 {"override_notification": "ftp://example.com/hook"},
                 {"append_notification": ",".join(f"http://h/{i}" for i in range(4))}):
        r = httpx.post(create, json={"order_id": order_id(), "gross_amount": 1000, **body})
        assert r.status_code == 400 and r.json()["error"], body
    oid = order_id()
    sim_create(plain, oid, "cstore", store="indomaret", custom_field2="x")
    body = status(plain, oid).json()
    assert (body["store"], body["custom_field2"]) == ("indomaret", "x") and "fraud_status" not in body
    assert httpx.post(f"{plain}/_sim/transactions/{oid}/age", json={"days": -1}).status_code == 400
    assert httpx.post(f"{plain}/_sim/transactions/nobody/age", json={"days": 1}).status_code == 404
    aged = httpx.post(f"{plain}/_sim/transactions/{oid}/age", json={"days": 1}).json()["transaction"]
    assert aged["transaction_time"] < body["transaction_time"]
    bad = httpx.post(f"{plain}/_sim/faults", json={"direct_refund": {"deny_by_bank": -1}})
    assert bad.status_code == 400


def test_pay_again_makes_a_new_transaction(plain: str) -> None:
    oid = order_id()
    first = sim_create(plain, oid)["transaction"]["transaction_id"]
    act(plain, oid, "expire")
    r = act(plain, oid, "pay_again")
    assert r.status_code == 200
    second = r.json()["transaction"]
    assert second["transaction_id"] != first
    assert (second["transaction_status"], second["status_code"]) == ("pending", "201")
    assert act(plain, oid, "settle").status_code == 200
    latest = status(plain, oid).json()
    assert latest["transaction_id"] == second["transaction_id"]
    assert latest["transaction_status"] == "settlement"
    assert status(plain, first).json()["transaction_status"] == "expire"  # the old one, by transaction_id
    [order] = [o for o in httpx.get(f"{plain}/_sim/transactions").json()["orders"] if o["order_id"] == oid]
    assert [t["transaction_status"] for t in order["transactions"]] == ["expire", "settlement"]
    assert [h["action"] for h in order["transactions"][1]["history"]] == ["pay_again", "settle"]


def test_expire_endpoint(plain: str) -> None:
    oid = order_id()
    sim_create(plain, oid, notify=False)
    r = httpx.post(f"{plain}/v2/{oid}/expire", headers=AUTH)
    assert r.status_code == 200
    assert (r.json()["status_code"], r.json()["transaction_status"]) == ("407", "expire")
    assert_signed(r.json())
    notes = httpx.get(f"{plain}/_sim/notifications").json()["notifications"]
    assert [n["transaction_status"] for n in notes if n["order_id"] == oid] == ["expire"]

    settled = order_id()
    sim_create(plain, settled, notify=False)
    act(plain, settled, "settle")
    r = httpx.post(f"{plain}/v2/{settled}/expire", headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {"status_code": "412",
                        "status_message": "Merchant cannot modify the status of the transaction"}
    assert status(plain, settled).json()["transaction_status"] == "settlement"
    assert httpx.post(f"{plain}/v2/nobody/expire", headers=AUTH).status_code == 404


def test_cancel_endpoint(plain: str) -> None:
    pending, challenged, settled = order_id(), order_id(), order_id()
    sim_create(plain, pending, notify=False)
    sim_create(plain, challenged, "credit_card", notify=False)
    act(plain, challenged, "capture", fraud_status="challenge", notify=False)
    sim_create(plain, settled, notify=False)
    act(plain, settled, "settle", notify=False)
    for oid in (pending, challenged):
        r = httpx.post(f"{plain}/v2/{oid}/cancel", headers=AUTH)
        assert (r.json()["status_code"], r.json()["transaction_status"]) == ("200", "cancel")
    assert httpx.post(f"{plain}/v2/{settled}/cancel", headers=AUTH).json()["status_code"] == "412"


def test_reset_clears_state_and_faults(start: Callable[..., tuple[str, Simulator]]) -> None:
    base, sim = start(None)
    sim_create(base, "A-1")
    httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": "500"}})
    assert httpx.post(f"{base}/_sim/reset").status_code == 200
    assert httpx.get(f"{base}/_sim/transactions").json() == {"orders": []}
    assert status(base, "A-1").status_code == 404
    assert sim.notifications == [] and sim.status_faults.mode == "ok"


# --------------------------------------------------------------- notifications


def test_in_process_use_without_a_server() -> None:
    sim = create_app(KEY)  # no notify_url: notifications are recorded, no event loop needed
    txn, _ = sim.create_transaction("LOCAL-1", "1000.00", "bank_transfer")
    sim.transition("LOCAL-1", "settle")
    assert [(n.transaction_status, n.state) for n in sim.notifications] == [
        ("pending", "recorded"), ("settlement", "recorded")]
    assert sim.status_body(txn)["status_code"] == "200"


def test_in_process_control_from_another_thread(
        start: Callable[..., tuple[str, Simulator]], receiver: tuple[str, Receiver]) -> None:
    url, rec = receiver
    base, sim = start(f"{url}/status/200")
    oid = order_id()
    txn, note = sim.create_transaction(oid, "75000.00", "gopay")  # called from the test's thread
    assert note is not None and note["transaction_status"] == "pending"
    sim.transition(oid, "settle")
    got = wait_for(lambda: _for_order(rec, oid, 2))
    assert [b["transaction_status"] for b in got] == ["pending", "settlement"]
    with sim.lock:
        assert sim.orders[oid].latest is txn and txn.transaction_status == "settlement"
    assert status(base, oid).json()["gross_amount"] == "75000.00"


def test_notification_body_matches_status_and_is_signed(
        start: Callable[..., tuple[str, Simulator]], receiver: tuple[str, Receiver]) -> None:
    url, rec = receiver
    base, _ = start(f"{url}/status/200")
    oid = order_id()
    scheduled = sim_create(base, oid)["notification"]
    act(base, oid, "settle")
    got = wait_for(lambda: _for_order(rec, oid, 2))
    assert [b["transaction_status"] for b in got] == ["pending", "settlement"]
    assert got[0] == scheduled
    for body in got:
        assert_signed(body)
    current = status(base, oid).json()
    assert {k: v for k, v in got[1].items() if k != "status_message"} == {
        k: v for k, v in current.items() if k != "status_message"}
    assert [d["http_status"] for d in deliveries(base)] == [200, 200]


def _for_order(rec: Receiver, oid: str, n: int) -> list[dict[str, Any]] | None:
    with rec.lock:
        bodies = [json.loads(c["body"]) for c in rec.calls]
    mine = [b for b in bodies if b.get("order_id") == oid]
    return mine if len(mine) >= n else None


def test_drop_fault(start: Callable[..., tuple[str, Simulator]], receiver: tuple[str, Receiver]) -> None:
    url, rec = receiver
    base, _ = start(f"{url}/status/200")
    oid = order_id()
    sim_create(base, oid, faults={"drop": True})
    act(base, oid, "settle")
    got = wait_for(lambda: _for_order(rec, oid, 1))
    time.sleep(0.2)
    assert [b["transaction_status"] for b in _for_order(rec, oid, 1) or []] == ["settlement"]
    assert [(d["transaction_status"], d["http_status"], d["fault"]) for d in deliveries(base)] == [
        ("pending", "dropped", "drop"), ("settlement", 200, None)]
    assert got


def test_delay_fault(start: Callable[..., tuple[str, Simulator]], receiver: tuple[str, Receiver]) -> None:
    url, rec = receiver
    base, _ = start(f"{url}/status/200")
    oid = order_id()
    t0 = time.monotonic()
    sim_create(base, oid, faults={"delay": 0.5})
    assert time.monotonic() - t0 < 0.4  # the control call does not wait for the delivery
    wait_for(lambda: _for_order(rec, oid, 1))
    assert time.monotonic() - t0 >= 0.5
    assert deliveries(base)[0]["fault"] == "delay"


def test_duplicate_fault(start: Callable[..., tuple[str, Simulator]], receiver: tuple[str, Receiver]) -> None:
    url, rec = receiver
    base, _ = start(f"{url}/status/200")
    oid = order_id()
    sim_create(base, oid, notify=False)
    act(base, oid, "settle", faults={"duplicate": 2})
    got = wait_for(lambda: _for_order(rec, oid, 3))
    time.sleep(0.1)
    assert len(_for_order(rec, oid, 3) or []) == 3
    assert got[0] == got[1] == got[2]
    assert sorted(d["copy"] for d in deliveries(base)) == [0, 1, 2]


def test_hold_then_release_delivers_in_reverse_order(
        start: Callable[..., tuple[str, Simulator]], receiver: tuple[str, Receiver]) -> None:
    url, rec = receiver
    base, _ = start(f"{url}/status/200")
    oid = order_id()
    sim_create(base, oid, payment_type="credit_card", faults={"hold": True})
    act(base, oid, "capture", faults={"hold": True})
    act(base, oid, "settle", faults={"hold": True})
    time.sleep(0.2)
    assert _for_order(rec, oid, 1) is None
    assert httpx.get(f"{base}/_sim/notifications").json()["held"] == [1, 2, 3]
    r = httpx.post(f"{base}/_sim/release-held")
    assert r.json() == {"released": 3}
    got = wait_for(lambda: _for_order(rec, oid, 3))
    assert [b["transaction_status"] for b in got] == ["settlement", "capture", "pending"]
    assert httpx.post(f"{base}/_sim/release-held").json() == {"released": 0}
    assert {d["fault"] for d in deliveries(base)} == {"hold"}


def test_bad_signature_fault(start: Callable[..., tuple[str, Simulator]],
                             receiver: tuple[str, Receiver]) -> None:
    url, rec = receiver
    base, _ = start(f"{url}/status/200")
    oid = order_id()
    sim_create(base, oid, notify=False)
    r = httpx.post(f"{base}/_sim/notify/{oid}", json={"faults": {"bad_signature": True}})
    assert r.status_code == 200
    [body] = wait_for(lambda: _for_order(rec, oid, 1))
    assert re.fullmatch(r"[0-9a-f]{128}", body["signature_key"])
    assert body["signature_key"] != signature(oid, body["status_code"], body["gross_amount"], KEY)
    assert body["transaction_status"] == "pending"
    assert deliveries(base)[0]["fault"] == "bad_signature"
    # Re-delivery without the fault is correctly signed again.
    httpx.post(f"{base}/_sim/notify/{oid}")
    assert_signed(wait_for(lambda: _for_order(rec, oid, 2))[1])


def test_notifications_without_notify_url_are_only_recorded(plain: str) -> None:
    oid = order_id()
    sim_create(plain, oid)
    notes = wait_for(lambda: [n for n in httpx.get(f"{plain}/_sim/notifications").json()["notifications"]
                              if n["order_id"] == oid and n["state"] == "recorded"])
    assert notes[0]["payload"]["transaction_status"] == "pending"
    assert not [d for d in deliveries(plain) if d["order_id"] == oid]


@pytest.mark.parametrize(("target", "expected_attempts", "outcome"), [
    ("/status/200", 1, 200),
    ("/status/500", 2, 500),
    ("/status/503", 5, 503),
    ("/status/400", 3, 400),
    ("/status/404", 3, 404),
    ("/status/418", 6, 418),
    ("/status/301", 1, 301),      # 301/302/303: no retry, delivery fails
    ("/status/302", 1, 302),
    ("/status/303", 1, 303),
    ("/status/307", 6, 307),      # 307 without a Location: a failure like any other
    ("/sleep/1.0", 6, "timeout"),
    ("closed-port", 6, "error"),
])
def test_retry_policy(start: Callable[..., tuple[str, Simulator]], receiver: tuple[str, Receiver],
                      target: str, expected_attempts: int, outcome: int | str) -> None:
    url, _ = receiver
    notify_url = f"http://127.0.0.1:{free_port()}/hook" if target == "closed-port" else url + target
    base, _ = start(notify_url, notify_timeout=0.15)
    oid = order_id()
    sim_create(base, oid)

    def finished() -> list[dict[str, Any]] | None:
        attempts = deliveries(base)
        return attempts if attempts and attempts[-1]["next_retry_in"] is None else None

    attempts = wait_for(finished, timeout=10)
    time.sleep(0.05)
    attempts = deliveries(base)
    assert [a["attempt"] for a in attempts] == list(range(1, expected_attempts + 1))
    assert {a["http_status"] for a in attempts} == {outcome}
    assert [a["next_retry_in"] for a in attempts[:-1]] == pytest.approx(
        [d * SCALE for d in RETRY_SCHEDULE[: expected_attempts - 1]])


# -------------------------------------------------------------- status faults


@pytest.mark.parametrize("mode", ["503", "500", "429"])
def test_status_api_error_faults_with_count(start: Callable[..., tuple[str, Simulator]], mode: str) -> None:
    base, _ = start(None)
    oid = order_id()
    sim_create(base, oid)
    r = httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": mode, "count": 2}})
    assert r.json()["status_api"] == {"mode": mode, "count": 2, "delay": 0.0}
    first = status(base, oid)
    assert first.status_code == int(mode) and first.json()["status_code"] == mode
    expire = httpx.post(f"{base}/v2/{oid}/expire", headers=AUTH)  # expire counts too, and changes nothing
    assert expire.status_code == int(mode)
    assert status(base, oid).json()["transaction_status"] == "pending"
    assert httpx.get(f"{base}/_sim/faults").json()["status_api"]["mode"] == "ok"


def test_status_api_fault_without_count_lasts_until_reset(
        start: Callable[..., tuple[str, Simulator]]) -> None:
    base, _ = start(None)
    oid = order_id()
    sim_create(base, oid)
    httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": "503", "count": None}})
    assert [status(base, oid).status_code for _ in range(3)] == [503, 503, 503]
    httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": "ok"}})
    assert status(base, oid).status_code == 200
    httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": "500"}})
    httpx.post(f"{base}/_sim/reset")
    assert status(base, oid).status_code == 404


def test_status_api_timeout_and_delay(start: Callable[..., tuple[str, Simulator]]) -> None:
    base, _ = start(None)
    oid = order_id()
    sim_create(base, oid)
    httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": "timeout", "count": 1}})
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        status(base, oid, timeout=0.5)
    assert status(base, oid, timeout=2).status_code == 200
    assert time.monotonic() - t0 < 1.5

    httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": "ok", "count": 1, "delay": 0.5}})
    t0 = time.monotonic()
    assert status(base, oid).status_code == 200
    assert time.monotonic() - t0 >= 0.5
    t0 = time.monotonic()
    status(base, oid)
    assert time.monotonic() - t0 < 0.5


def test_status_api_delay_without_count_applies_to_every_call(
        start: Callable[..., tuple[str, Simulator]]) -> None:
    """A constant Status API latency (bench/simulator_serve.py --delay): {"mode": "ok", "delay": d}
    with no count is never used up, so every call waits d."""
    base, sim = start(None)
    oid = order_id()
    sim_create(base, oid)
    assert httpx.post(f"{base}/_sim/faults",
                      json={"status_api": {"mode": "ok", "delay": 0.01}}).status_code == 200
    for _ in range(5):
        assert status(base, oid).status_code == 200
        assert httpx.get(f"{base}/_sim/faults").json()["status_api"] == \
            {"mode": "ok", "count": None, "delay": 0.01}
    assert [sim._take_status_fault() for _ in range(3)] == [("ok", 0.01)] * 3


def test_bad_fault_requests_are_400(plain: str) -> None:
    assert httpx.post(f"{plain}/_sim/faults", json={"status_api": {"mode": "explode"}}).status_code == 400
    oid = order_id()
    sim_create(plain, oid, notify=False)
    r = httpx.post(f"{plain}/_sim/notify/{oid}", json={"faults": {"teleport": True}})
    assert r.status_code == 400


# ------------------------------------------------------------------ lifecycle


def test_shutdown_cancels_pending_retries() -> None:
    sim = create_app(KEY, f"http://127.0.0.1:{free_port()}/hook", retry_scale=1.0)  # retry in 120 s
    with asgi_server(sim) as base:
        sim_create(base, order_id())
        wait_for(lambda: sim.deliveries)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 3
    assert [n.state for n in sim.notifications] == ["cancelled"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_cleanly_on_signal_even_with_a_stalled_request(signum: int) -> None:
    port = free_port()
    code = f"from runner.simulator import run; run('127.0.0.1', {port}, {KEY!r}, None, 1.0)"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/_sim/health")
        sim_create(base, "STALL-1")
        httpx.post(f"{base}/_sim/faults", json={"status_api": {"mode": "timeout"}})
        outcome: list[Any] = []

        def call() -> None:
            try:
                outcome.append(status(base, "STALL-1", timeout=60).status_code)
            except httpx.HTTPError as exc:
                outcome.append(type(exc).__name__)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        proc.send_signal(signum)
        assert proc.wait(timeout=10) == 0, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() - t0 < 3
        caller.join(timeout=5)
        assert outcome == [503]  # the stalled request is answered, not left hanging
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
