"""The Midtrans client against the simulator over real HTTP, one test per
error class: found, not found (HTTP 404 and 404-in-body), retried 5xx / 429,
persistent outage, timeout, connection refused, bad key, wrong base URL,
expire outcomes, URL-encoded order ids."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from runner.midtrans import Found, MidtransClient, MidtransError, NotFound, Refused
from runner.signature import signature
from runner.simulator import create_app
from tests.pgserver import free_port
from tests.servers import asgi_server

KEY = "SB-Mid-server-client-tests"


@pytest.fixture(scope="module")
def sim() -> Iterator[str]:
    with asgi_server(create_app(KEY)) as base:
        yield base


@pytest.fixture(autouse=True)
def clean(sim: str) -> None:
    httpx.post(f"{sim}/_sim/reset", json={})


def control(sim: str, path: str, body: dict | None = None) -> dict:
    response = httpx.post(f"{sim}/_sim{path}", json=body or {})
    assert response.status_code < 300, response.text
    return response.json()


def run(coro):
    return asyncio.run(coro)


async def ask(base: str, order_id: str, *, key: str = KEY, retries: int = 2, timeout: float = 2.0,
              verb: str = "status"):
    async with MidtransClient(base, key, timeout=timeout, retries=retries, backoff=0.01) as client:
        return await getattr(client, verb)(order_id)


def test_status_found_has_midtrans_formats(sim: str) -> None:
    control(sim, "/transactions", {"order_id": "C-1", "gross_amount": 150000, "notify": False})
    control(sim, "/transactions/C-1/settle", {"notify": False})
    answer = run(ask(sim, "C-1"))
    assert isinstance(answer, Found)
    body = answer.body
    assert (body["transaction_status"], body["status_code"], body["gross_amount"]) == (
        "settlement", "200", "150000.00")
    assert body["signature_key"] == signature("C-1", "200", "150000.00", KEY)


def test_unknown_order_is_not_found_not_an_error(sim: str) -> None:
    assert isinstance(run(ask(sim, "NOPE")), NotFound)


def test_not_found_inside_an_http_200_body(sim: str) -> None:
    control(sim, "/faults", {"status_api": {"mode": "not_found_in_body", "count": None}})
    answer = run(ask(sim, "NOPE"))
    assert isinstance(answer, NotFound)
    assert answer.body["status_code"] == "404"


@pytest.mark.parametrize("mode", ["503", "500", "429"])
def test_transient_errors_are_retried(sim: str, mode: str) -> None:
    control(sim, "/transactions", {"order_id": "C-2", "gross_amount": 1000, "notify": False})
    control(sim, "/faults", {"status_api": {"mode": mode, "count": 2}})
    answer = run(ask(sim, "C-2", retries=2))
    assert isinstance(answer, Found) and answer.transaction_status == "pending"


def test_persistent_outage_raises_after_bounded_attempts(sim: str) -> None:
    control(sim, "/transactions", {"order_id": "C-3", "gross_amount": 1000, "notify": False})
    control(sim, "/faults", {"status_api": {"mode": "503", "count": None}})
    with pytest.raises(MidtransError, match="HTTP 503 after 3 attempts") as err:
        run(ask(sim, "C-3", retries=2))
    assert err.value.status == 503


def test_timeout_raises_midtrans_error(sim: str) -> None:
    control(sim, "/transactions", {"order_id": "C-4", "gross_amount": 1000, "notify": False})
    control(sim, "/faults", {"status_api": {"mode": "timeout", "count": None}})
    started = time.monotonic()
    with pytest.raises(MidtransError, match="ReadTimeout after 2 attempts"):
        run(ask(sim, "C-4", retries=1, timeout=0.5))
    assert time.monotonic() - started < 5


def test_connection_refused_raises_midtrans_error() -> None:
    with pytest.raises(MidtransError, match="ConnectError"):
        run(ask(f"http://127.0.0.1:{free_port()}", "C-5", retries=1))


def test_wrong_server_key_is_reported_without_the_key(sim: str) -> None:
    with pytest.raises(MidtransError, match="HTTP 401") as err:
        run(ask(sim, "C-6", key="SB-Mid-server-wrong-key"))
    assert "wrong-key" not in str(err.value)


async def plain_404(scope: dict, receive, send) -> None:
    """A web server that is not Midtrans: an HTML 404 for every path."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"<h1>Not Found</h1>"})


def test_bare_404_means_a_wrong_base_url_not_a_missing_order() -> None:
    with asgi_server(plain_404) as elsewhere, pytest.raises(MidtransError,
                                                            match="check MIDTRANS_API_BASE_URL"):
        run(ask(elsewhere, "C-7"))


def test_expire_pending_refused_when_settled_and_not_found(sim: str) -> None:
    control(sim, "/transactions", {"order_id": "C-8", "gross_amount": 1000, "notify": False})
    expired = run(ask(sim, "C-8", verb="expire"))
    assert isinstance(expired, Found) and expired.transaction_status == "expire"
    assert expired.body["status_code"] == "407"

    control(sim, "/transactions", {"order_id": "C-9", "gross_amount": 1000, "notify": False})
    control(sim, "/transactions/C-9/settle", {"notify": False})
    refused = run(ask(sim, "C-9", verb="expire"))
    assert isinstance(refused, Refused) and refused.body["status_code"] == "412"

    assert isinstance(run(ask(sim, "C-10", verb="expire")), NotFound)


def test_order_ids_are_url_encoded(sim: str) -> None:
    odd = "SHOP/2026#1 ~a.b_c"
    control(sim, "/transactions", {"order_id": odd, "gross_amount": 1000, "notify": False})
    answer = run(ask(sim, odd))
    assert isinstance(answer, Found) and answer.body["order_id"] == odd
