"""The Midtrans client against the simulator (and scripted Midtrans-like
servers) over real HTTP, one test per error class: found, not found (only
Midtrans' own "Transaction doesn't exist."), retried 5xx / 429 with
Retry-After, persistent outage, timeout, connection refused, bad key, wrong
base URL, expire refused with 412 (HTTP status or body), URL-encoded order
ids, dot segments refused."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from runner.midtrans import Found, MidtransClient, MidtransError, NotFound, Refused, SnapToken
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


class Scripted:
    """A Midtrans-like server answering from a script: (HTTP status, JSON body, headers) per request."""

    def __init__(self, *answers: tuple[int, dict, list]) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        self.paths.append(scope["path"])
        status, body, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                *((k.encode(), v.encode()) for k, v in headers)]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})


REFUSED = {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"}


@pytest.mark.parametrize("http_status", [200, 412])
def test_an_expire_refused_with_412_is_refused_as_http_status_or_in_the_body(http_status: int) -> None:
    with asgi_server(Scripted((http_status, REFUSED, []))) as base:
        answer = run(ask(base, "C-11", verb="expire"))
    assert isinstance(answer, Refused) and answer.body["status_code"] == "412"


@pytest.mark.parametrize("http_status", [200, 404])
def test_only_transaction_doesnt_exist_is_not_found(http_status: int) -> None:
    """A Midtrans-shaped 404 for a path Midtrans does not serve is a wrong
    base URL, never "no such order" (reconcile would expire real orders)."""
    elsewhere = {"status_code": "404", "status_message": "The requested resource is not found"}
    with asgi_server(Scripted((http_status, elsewhere, []))) as base, \
            pytest.raises(MidtransError, match="check MIDTRANS_API_BASE_URL"):
        run(ask(base, "C-12"))
    missing = {"status_code": "404", "status_message": "Transaction doesn't exist.", "id": "x"}
    with asgi_server(Scripted((http_status, missing, []))) as base:
        assert isinstance(run(ask(base, "C-12")), NotFound)


def test_a_wrong_path_on_the_simulator_is_a_configuration_error(sim: str) -> None:
    control(sim, "/transactions", {"order_id": "C-13", "gross_amount": 1000, "notify": False})
    with pytest.raises(MidtransError, match="check MIDTRANS_API_BASE_URL"):
        run(ask(f"{sim}/api", "C-13"))
    with pytest.raises(MidtransError, match="check MIDTRANS_API_BASE_URL"):
        run(ask(f"{sim}/api", "C-13", verb="expire"))


@pytest.mark.parametrize("order_id", [".", "..", "", " "])
def test_dot_segments_never_reach_the_network(order_id: str) -> None:
    """quote() leaves "." and ".." as they are, and a URL parser collapses them
    into another endpoint (/v2/../status is /status)."""
    server = Scripted((200, {"status_code": "200", "transaction_status": "settlement"}, []))
    with asgi_server(server) as base:
        for verb in ("status", "expire"):
            with pytest.raises(MidtransError, match="refusing to ask Midtrans"):
                run(ask(base, order_id, verb=verb))
    assert server.paths == []


def test_retry_after_on_429_is_honoured(monkeypatch) -> None:
    waited: list[float] = []

    async def pause(self, seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(MidtransClient, "_pause", pause)
    found = {"status_code": "201", "transaction_status": "pending", "order_id": "C-14"}
    server = Scripted((429, {"status_code": "429"}, [("retry-after", "7")]), (200, found, []))
    with asgi_server(server) as base:
        answer = run(ask(base, "C-14", retries=2))
    assert isinstance(answer, Found)
    assert waited and waited[0] >= 7, "the backoff waited at least what Retry-After asked"


def test_a_retry_after_beyond_the_limit_fails_at_once(monkeypatch) -> None:
    waited: list[float] = []

    async def pause(self, seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(MidtransClient, "_pause", pause)
    server = Scripted((429, {"status_code": "429"}, [("retry-after", "3600")]))
    with asgi_server(server) as base, pytest.raises(MidtransError, match="Retry-After"):
        run(ask(base, "C-15", retries=3))
    assert waited == [] and len(server.paths) == 1, "no hour-long sleep inside a sync run"


# -- Snap (checkout) -------------------------------------------------------------------------

SNAP_BODY = {"transaction_details": {"order_id": "S-1", "gross_amount": 1000}}


async def snap(base: str, *, retries: int = 2, timeout: float = 2.0):
    async with MidtransClient("http://127.0.0.1:9", KEY, timeout=timeout, retries=retries,
                              backoff=0.01) as client:
        return await client.snap_create(base, SNAP_BODY)


def test_snap_create_returns_token_and_redirect_url_from_the_simulator(sim: str) -> None:
    answer = run(snap(sim))
    assert isinstance(answer, SnapToken)
    assert answer.redirect_url == f"{sim}/snap/v2/vtweb/{answer.token}"
    again = run(snap(sim))   # Snap keeps one session per order_id
    assert isinstance(again, Refused)
    assert again.body["error_messages"] == ["transaction_details.order_id has already been taken"]


def test_snap_create_retries_only_what_cannot_have_created_a_transaction() -> None:
    made = {"token": "t-1", "redirect_url": "https://snap/t-1"}
    busy = Scripted((503, {"error_messages": ["busy"]}, []), (201, made, []))
    with asgi_server(busy) as base:
        assert run(snap(base)) == SnapToken("t-1", "https://snap/t-1")
    assert len(busy.paths) == 2 and busy.paths[0] == "/snap/v1/transactions"
    failing = Scripted((500, {"error_messages": ["oops"]}, []))
    with asgi_server(failing) as base, pytest.raises(MidtransError, match="HTTP 500"):
        run(snap(base))
    assert len(failing.paths) == 1, "a 500 may have created it: not asked again"
    with asgi_server(Scripted((401, {"error_messages": ["Access denied"]}, []))) as base, \
            pytest.raises(MidtransError, match="check MIDTRANS_SERVER_KEY"):
        run(snap(base))
    with asgi_server(Scripted((404, {"status_code": "404"}, []))) as base, \
            pytest.raises(MidtransError, match="MIDTRANS_SNAP_BASE_URL"):
        run(snap(base))
    with pytest.raises(MidtransError, match="ConnectError after 3 attempts"):
        run(snap(f"http://127.0.0.1:{free_port()}"))


def test_snap_create_does_not_retry_a_lost_answer() -> None:
    """A read timeout: Snap may have created the transaction, a second request would be
    refused (and its token is lost either way), so the caller decides."""
    calls: list[str] = []

    async def stall(scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        calls.append(scope["path"])
        await asyncio.sleep(3)

    with asgi_server(stall) as base, pytest.raises(MidtransError, match="not retried"):
        run(snap(base, timeout=0.3))
    assert len(calls) == 1


def test_operator_actions_found_refused_and_not_found(sim: str) -> None:
    """capture / approve / deny / cancel (runner/actions.py): Midtrans' answer, its 412, its 404."""
    created = control(sim, "/transactions", {"order_id": "C-40", "gross_amount": 1000, "notify": False,
                                             "payment_type": "credit_card", "card": "authorize"})
    txid = created["transaction"]["transaction_id"]

    async def act(verb: str, *args: object):
        async with MidtransClient(sim, KEY, timeout=2.0, retries=0) as client:
            return await getattr(client, verb)(*args)

    captured = run(act("capture", txid, 1000))
    assert isinstance(captured, Found) and captured.body["status_code"] == "200"
    assert (captured.transaction_status, captured.body["fraud_status"]) == ("capture", "accept")
    again = run(act("capture", txid, 1000))
    assert isinstance(again, Refused) and again.body["status_code"] == "412"
    assert isinstance(run(act("capture", "no-such-transaction")), NotFound)

    control(sim, "/transactions", {"order_id": "C-41", "gross_amount": 1000, "notify": False,
                                   "payment_type": "credit_card", "card": "challenge"})
    assert isinstance(run(act("cancel", "C-40")), Found)   # an unsettled capture can be cancelled
    approved = run(act("approve", "C-41"))
    assert isinstance(approved, Found) and approved.body["fraud_status"] == "accept"
    assert isinstance(run(act("deny", "C-41")), Refused), "only a challenge can be denied"
    for verb in ("approve", "deny", "cancel"):
        assert isinstance(run(act(verb, "C-99")), NotFound)
    with pytest.raises(MidtransError, match="HTTP 401"):
        run(ask(sim, "C-41", key="SB-Mid-server-wrong", verb="cancel"))


def test_a_missing_sniffio_is_marked_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpcore imports sniffio on every lock it sets up; without sniffio installed that failed
    import would search sys.path each time, so runner.midtrans marks it absent (the same
    outcome, at once). An installed sniffio is left alone."""
    import httpcore._synchronization

    from runner import midtrans

    monkeypatch.setitem(sys.modules, "sniffio", None)
    monkeypatch.delitem(sys.modules, "sniffio")
    monkeypatch.setattr(midtrans.importlib.util, "find_spec", lambda name, *args: None)
    assert midtrans._mark_sniffio_absent() is True
    assert sys.modules["sniffio"] is None
    with pytest.raises(ImportError):
        import sniffio  # noqa: F401
    assert httpcore._synchronization.current_async_library() == "asyncio"
    assert midtrans._mark_sniffio_absent() is False  # marked once

    monkeypatch.delitem(sys.modules, "sniffio")
    monkeypatch.setattr(midtrans.importlib.util, "find_spec", lambda name, *args: object())
    assert midtrans._mark_sniffio_absent() is False  # installed: imported as usual
    assert "sniffio" not in sys.modules
