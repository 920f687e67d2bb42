"""Midtrans Status API client (httpx).

``status(id)`` and ``expire(id)`` (``id`` an order_id or a transaction_id),
``snap_create(snap_base_url, body)`` (a Snap transaction, for checkout),
``refund(id, refund_key, amount, reason)`` and ``direct_refund(...)``,
``capture`` / ``approve`` / ``deny`` / ``cancel`` (operator actions),
with Basic auth ``base64(server_key + ":")``, connect/read timeouts, a
keep-alive connection pool (runner/transport.py: httpx with a lean HTTP/1.1
transport, a fraction of the CPU per call of httpx's own; that one is kept
when a proxy environment variable is set), and bounded retries with exponential backoff and
full jitter on timeouts, connection errors, 429 (honouring ``Retry-After``)
and 5xx.

Midtrans puts the outcome in the body's ``status_code``, often under HTTP 200.
Only Midtrans' own "Transaction doesn't exist." is :class:`NotFound`; any
other 404 (a wrong path on a Midtrans-like host, a wrong base URL) is a
configuration error naming ``MIDTRANS_API_BASE_URL``, so a misconfiguration
can never make reconcile expire real orders. A 412 ("Merchant cannot modify
the status of the transaction") is :class:`Refused`, as HTTP 412 or inside an
HTTP 200.

With a ``metrics`` object (runner.metrics.Metrics), every HTTP request is
timed by endpoint (``status``, ``expire``, ``refund``, ``direct_refund``) and every failed one counted by
class: timeout, connect, transport, rate_limited (429), http_5xx, auth
(401/403), http_4xx, refused (412), bad_answer (not Midtrans' JSON).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import random
import sys
import time
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from runner.signature import basic_auth
from runner.transport import LeanTransport

log = logging.getLogger("payments.midtrans")


def _mark_sniffio_absent() -> bool:
    """httpcore 1.0 runs ``import sniffio`` each time it sets up a lock, event or
    semaphore (several per request) and falls back to asyncio when that fails;
    anyio >= 4.11 no longer installs sniffio, and a failed import is not cached,
    so each one searches all of sys.path again: about 5 ms of CPU per Status
    API call measured under load (encode/httpcore discussion #1102). With
    ``sys.modules["sniffio"] = None`` the import fails at once, with the same
    outcome. Does nothing when sniffio is installed. True if it marked it.
    Matters only where httpx's own transport is used (a proxy is set):
    runner/transport.py has no such import."""
    if "sniffio" in sys.modules or importlib.util.find_spec("sniffio") is not None:
        return False
    sys.modules["sniffio"] = None  # type: ignore[assignment]
    return True


_mark_sniffio_absent()

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
#: A Retry-After longer than this is not waited for: the call fails and the
#: caller's own schedule (Midtrans' retries, the next sync) tries again.
MAX_RETRY_AFTER = 60.0
TRANSACTION_MISSING = "transaction doesn't exist"
#: an idle connection to Midtrans is dropped after this many seconds
KEEPALIVE_EXPIRY = 5.0


class MidtransError(Exception):
    """Midtrans could not be asked (down, timing out, refusing us, answering nonsense)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Found:
    body: dict[str, Any]

    @property
    def transaction_status(self) -> str | None:
        return self.body.get("transaction_status")


@dataclass(frozen=True)
class NotFound:
    body: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """Midtrans answered but would not do it (412: the transaction is not in a state that allows it)."""

    body: dict[str, Any]


StatusResult = Found | NotFound
ExpireResult = Found | NotFound | Refused
ActionResult = Found | NotFound | Refused
RefundResult = Found | NotFound | Refused


@dataclass(frozen=True)
class SnapToken:
    """A Snap transaction: the token for Snap.js and the payment page's URL."""

    token: str
    redirect_url: str


def path_segment(key: str) -> str:
    """An order_id / transaction_id as one URL path segment.

    Percent-encodes everything outside the unreserved set; "." and ".." stay
    dot segments after encoding and would be collapsed into another endpoint,
    so they are refused (the SQL API never creates such an order number).
    """
    if not isinstance(key, str) or key.strip() in ("", ".", ".."):
        raise MidtransError(f"refusing to ask Midtrans about {key!r}: not an order_id or transaction_id")
    return quote(key, safe="")


def uses_proxy(url: str) -> bool:
    """Whether an HTTP(S)_PROXY / ALL_PROXY environment variable applies to
    ``url``'s scheme; then the calls go through httpx's own transport, which
    honours them (and NO_PROXY). Any such variable counts, whatever NO_PROXY
    says: the Snap host differs from the API host, and a missed proxy would
    fail closed networks."""
    proxies = urllib.request.getproxies_environment()
    return bool(proxies.get(httpx.URL(url).scheme) or proxies.get("all"))


class MidtransClient:
    def __init__(self, base_url: str, server_key: str, *, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.5, max_backoff: float = 8.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 max_connections: int = 64, metrics: Any = None) -> None:
        if transport is None and not uses_proxy(base_url):
            transport = LeanTransport(max_connections=max_connections, keepalive_expiry=KEEPALIVE_EXPIRY)
        # else httpx's own transport: it honours HTTP(S)_PROXY / ALL_PROXY / NO_PROXY
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": basic_auth(server_key), "Accept": "application/json",
                     "User-Agent": "payments-runner"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                                keepalive_expiry=KEEPALIVE_EXPIRY),
            transport=transport,
        )
        self._retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._metrics = metrics

    async def __aenter__(self) -> MidtransClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def status(self, key: str) -> StatusResult:
        """GET /v2/{key}/status: the transaction's current state, or NotFound."""
        path = f"/v2/{path_segment(key)}/status"
        body = await self._request("GET", path, "status")
        if _transaction_missing(body):
            return NotFound(body)
        if "transaction_status" not in body:
            self._error("status", "bad_answer")
            raise MidtransError(f"GET {path}: answer without transaction_status "
                                f"(status_code {body.get('status_code')!r}: {_message(body)})")
        return Found(body)

    async def expire(self, key: str) -> ExpireResult:
        """POST /v2/{key}/expire: Found (now expired), Refused (412: not pending) or NotFound."""
        path = f"/v2/{path_segment(key)}/expire"
        body = await self._request("POST", path, "expire")
        if _transaction_missing(body):
            return NotFound(body)
        if "transaction_status" not in body or str(body.get("status_code")) == "412":
            self._error("expire", "refused")
            return Refused(body)
        return Found(body)

    # -- refunds ----------------------------------------------------------------
    # POST /v2/{key}/refund and /v2/{key}/refund/online/direct with the body
    # {refund_key, amount, reason}. The same refund_key on the same transaction
    # makes Midtrans replay its first answer and refund nothing more, so these
    # calls are retried like the others (timeouts, 429, 5xx).

    async def refund(self, key: str, refund_key: str, amount: Any = None,
                     reason: str | None = None) -> RefundResult:
        """POST /v2/{key}/refund: Found (refunded: refund / partial_refund),
        Refused (412 not settled / not refundable / window passed, 414 amount) or NotFound."""
        return await self._refund(f"/v2/{path_segment(key)}/refund", "refund", refund_key, amount, reason)

    async def direct_refund(self, key: str, refund_key: str, amount: Any = None,
                            reason: str | None = None) -> RefundResult:
        """POST /v2/{key}/refund/online/direct: as refund; a refund the bank
        denies (body 202, nothing refunded) is Refused too."""
        return await self._refund(f"/v2/{path_segment(key)}/refund/online/direct", "direct_refund",
                                  refund_key, amount, reason)

    async def _refund(self, path: str, endpoint: str, refund_key: str, amount: Any,
                      reason: str | None) -> RefundResult:
        body: dict[str, Any] = {"refund_key": refund_key}
        if amount is not None:
            body["amount"] = _json_amount(amount)
        if reason:
            body["reason"] = reason
        answer = await self._request("POST", path, endpoint, json=body)
        if _transaction_missing(answer):
            return NotFound(answer)
        if str(answer.get("status_code")) != "200" \
                or answer.get("transaction_status") not in ("refund", "partial_refund"):
            self._error(endpoint, "refused")
            return Refused(answer)
        return Found(answer)

    def _error(self, endpoint: str, error_class: str) -> None:
        if self._metrics is not None:
            self._metrics.midtrans_error(endpoint, error_class)

    async def _request(self, method: str, path: str, endpoint: str = "other",
                       json: dict[str, Any] | None = None) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            started = time.perf_counter()
            try:
                response = await self._client.request(method, path, json=json)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self._observe(endpoint, started)
                error_class = _transport_class(exc)
                self._error(endpoint, error_class)
                reason = f"{type(exc).__name__}"
                if attempt > self._retries:
                    raise MidtransError(f"{method} {path}: {reason} after {attempt} attempts") from None
                log.warning("midtrans %s %s: %s (attempt %d), retrying", method, path, reason, attempt,
                            extra={"endpoint": endpoint, "error_class": error_class, "attempt": attempt})
            else:
                self._observe(endpoint, started)
                if response.status_code not in RETRYABLE_STATUS:
                    try:
                        return _answer(response, method, path)
                    except MidtransError as exc:
                        self._error(endpoint, _status_class(exc.status))
                        raise
                error_class = _status_class(response.status_code)
                self._error(endpoint, error_class)
                if attempt > self._retries:
                    raise MidtransError(
                        f"{method} {path}: HTTP {response.status_code} after {attempt} attempts",
                        status=response.status_code)
                wait = retry_after(response)
                if wait is not None and wait > MAX_RETRY_AFTER:
                    raise MidtransError(f"{method} {path}: HTTP {response.status_code}, Retry-After "
                                        f"{wait:.0f}s is beyond {MAX_RETRY_AFTER:.0f}s",
                                        status=response.status_code)
                log.warning("midtrans %s %s: HTTP %d (attempt %d), retrying", method, path,
                            response.status_code, attempt,
                            extra={"endpoint": endpoint, "error_class": error_class, "attempt": attempt,
                                   "http_status": response.status_code})
            await self._pause(max(self._delay(attempt), wait or 0.0))

    def _observe(self, endpoint: str, started: float) -> None:
        if self._metrics is not None:
            self._metrics.midtrans_request(endpoint, time.perf_counter() - started)

    async def _pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def _delay(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(max, base * 2^(attempt-1)))."""
        return random.uniform(0, min(self._max_backoff, self._backoff * 2 ** (attempt - 1)))

    async def snap_create(self, snap_base_url: str, body: dict[str, Any]) -> SnapToken | Refused:
        """POST {snap_base_url}/snap/v1/transactions: a SnapToken, or Refused (a 4xx answer
        with Snap's ``error_messages``, e.g. an order_id Snap already holds).

        Creating is not idempotent at Snap, so only what cannot have created
        anything is retried (connection refused / connect timeout, 429, 503);
        a read timeout or another 5xx raises MidtransError at once, as do 401 /
        403 (the server key) and a 404 (the Snap base URL)."""
        url = f"{snap_base_url.rstrip('/')}/snap/v1/transactions"
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            wait: float | None = None
            try:
                response = await self._client.post(url, json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                self._observe("snap", started)
                self._error("snap", _transport_class(exc))
                if attempt > self._retries:
                    raise MidtransError(f"POST {url}: {type(exc).__name__} after {attempt} "
                                        "attempts") from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self._observe("snap", started)
                self._error("snap", _transport_class(exc))
                raise MidtransError(f"POST {url}: {type(exc).__name__} (not retried: Snap may have "
                                    "created the transaction)") from None
            else:
                self._observe("snap", started)
                status = response.status_code
                if status in (429, 503) and attempt <= self._retries:
                    self._error("snap", _status_class(status))
                    wait = retry_after(response)
                    if wait is not None and wait > MAX_RETRY_AFTER:
                        raise MidtransError(f"POST {url}: HTTP {status}, Retry-After {wait:.0f}s is beyond "
                                            f"{MAX_RETRY_AFTER:.0f}s", status=status)
                else:
                    return self._snap_answer(url, response)
            log.warning("midtrans snap create: attempt %d failed, retrying", attempt,
                        extra={"endpoint": "snap", "attempt": attempt})
            await self._pause(max(self._delay(attempt), wait or 0.0))

    def _snap_answer(self, url: str, response: httpx.Response) -> SnapToken | Refused:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status in (401, 403):
            self._error("snap", "auth")
            raise MidtransError(f"POST {url}: HTTP {status} (check MIDTRANS_SERVER_KEY)", status=status)
        if not isinstance(body, dict):
            self._error("snap", _status_class(status) if status >= 400 else "bad_answer")
            hint = " (check MIDTRANS_SNAP_BASE_URL)" if status == 404 else ""
            raise MidtransError(f"POST {url}: HTTP {status} with a non-JSON body{hint}", status=status)
        if status in (200, 201) and isinstance(body.get("token"), str) and body["token"] \
                and isinstance(body.get("redirect_url"), str) and body["redirect_url"]:
            return SnapToken(body["token"], body["redirect_url"])
        if 400 <= status < 500 and status != 404 and isinstance(body.get("error_messages"), list):
            self._error("snap", "refused")
            return Refused(body)
        self._error("snap", _status_class(status) if status >= 400 else "bad_answer")
        hint = " (check MIDTRANS_SNAP_BASE_URL)" if status == 404 else ""
        raise MidtransError(f"POST {url}: HTTP {status} is not a Snap answer{hint}", status=status)

    # -- operator actions (runner/actions.py): capture, approve, deny, cancel --
    # Each answers Found (Midtrans did it; the body is the transaction after it),
    # Refused (412 and Midtrans' other refusals in the body: not in a state that
    # allows it) or NotFound; 401 / 403, timeouts and 5xx after the retries raise
    # MidtransError. A retried POST that Midtrans had already carried out answers
    # 412: the caller asks the Status API before calling it a refusal.

    async def capture(self, transaction_id: str, gross_amount: int | None = None) -> ActionResult:
        """POST /v2/capture {transaction_id, gross_amount}: an authorised card payment captured."""
        path_segment(transaction_id)   # the same check as for a path: a real transaction id
        body: dict[str, Any] = {"transaction_id": transaction_id}
        if gross_amount is not None:
            body["gross_amount"] = gross_amount
        answer = await self._request("POST", "/v2/capture", "capture", json=body)
        return self._action_result("capture", answer)

    async def approve(self, key: str) -> ActionResult:
        """POST /v2/{key}/approve: a challenged card payment accepted."""
        return await self._action(key, "approve")

    async def deny(self, key: str) -> ActionResult:
        """POST /v2/{key}/deny: a challenged card payment denied."""
        return await self._action(key, "deny")

    async def cancel(self, key: str) -> ActionResult:
        """POST /v2/{key}/cancel: a pending, authorised or not yet settled payment cancelled."""
        return await self._action(key, "cancel")

    async def _action(self, key: str, verb: str) -> ActionResult:
        path = f"/v2/{path_segment(key)}/{verb}"
        return self._action_result(verb, await self._request("POST", path, verb))

    def _action_result(self, endpoint: str, body: dict[str, Any]) -> ActionResult:
        if _transaction_missing(body):
            return NotFound(body)
        code = str(body.get("status_code", ""))
        if "transaction_status" not in body or not code.startswith("2"):
            self._error(endpoint, "refused")
            return Refused(body)
        return Found(body)


def _transport_class(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "transport"


def _status_class(status: int | None) -> str:
    """The error class of an HTTP answer that is not a usable Midtrans answer."""
    if status is None:
        return "bad_answer"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "http_5xx"
    if status in (401, 403):
        return "auth"
    if status >= 400:
        return "http_4xx"
    return "bad_answer"   # a 2xx/3xx whose body is not Midtrans' JSON


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if any."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _answer(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    """The body of a final (non-retried) answer, or MidtransError for what is not Midtrans' answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if status in (401, 403):
        raise MidtransError(f"{method} {path}: HTTP {status} (check MIDTRANS_SERVER_KEY)", status=status)
    if not isinstance(body, dict):
        hint = " (check MIDTRANS_API_BASE_URL)" if status == 404 else ""
        raise MidtransError(f"{method} {path}: HTTP {status} with a non-JSON body{hint}", status=status)
    if _transaction_missing(body):
        return body
    code = str(body.get("status_code", ""))
    if status == 404 or code == "404":
        # not "Transaction doesn't exist.": a path Midtrans does not serve
        raise MidtransError(f"{method} {path}: 404 {_message(body)!r} is not Midtrans' \"Transaction "
                            "doesn't exist.\" (check MIDTRANS_API_BASE_URL)", status=404)
    if status == 412 or code == "412":
        return {**body, "status_code": "412"}
    if status >= 400:
        raise MidtransError(f"{method} {path}: HTTP {status} ({_message(body)})", status=status)
    return body


def _json_amount(amount: Any) -> int | float:
    """A refund amount as a JSON number (Midtrans documents a Long; IDR has no cents)."""
    value = Decimal(str(amount))
    return int(value) if value == value.to_integral_value() else float(value)


def _transaction_missing(body: dict[str, Any]) -> bool:
    """Midtrans' own not-found answer: status_code 404, "Transaction doesn't exist."."""
    return (str(body.get("status_code")) == "404"
            and _message(body).strip().rstrip(".").lower() == TRANSACTION_MISSING)


def _message(body: dict[str, Any]) -> str:
    return str(body.get("status_message") or "")[:200]
