"""Midtrans Status API client (httpx).

``status(order_id)`` and ``expire(order_id)`` with Basic auth
``base64(server_key + ":")``, connect/read timeouts, and bounded retries with
exponential backoff and full jitter on timeouts, connection errors, 429 and
5xx. "404 Transaction doesn't exist" -- as the HTTP status or as the body's
``status_code`` -- is a clean :class:`NotFound` result, not an exception.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from runner.signature import basic_auth

log = logging.getLogger("payments.midtrans")

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


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
    """Midtrans answered but would not do it (e.g. 412: the transaction is not pending)."""

    body: dict[str, Any]


StatusResult = Found | NotFound
ExpireResult = Found | NotFound | Refused


class MidtransClient:
    def __init__(self, base_url: str, server_key: str, *, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.5, max_backoff: float = 8.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": basic_auth(server_key), "Accept": "application/json",
                     "User-Agent": "payments-runner"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )
        self._retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff

    async def __aenter__(self) -> MidtransClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def status(self, order_id: str) -> StatusResult:
        body = await self._request("GET", f"/v2/{quote(order_id, safe='')}/status")
        if _is_not_found(body):
            return NotFound(body)
        if "transaction_status" not in body:
            raise MidtransError(f"status answer for {order_id!r} has no transaction_status")
        return Found(body)

    async def expire(self, order_id: str) -> ExpireResult:
        body = await self._request("POST", f"/v2/{quote(order_id, safe='')}/expire")
        if _is_not_found(body):
            return NotFound(body)
        if "transaction_status" not in body:
            return Refused(body)
        return Found(body)

    async def _request(self, method: str, path: str) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._client.request(method, path)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                reason = f"{type(exc).__name__}"
                if attempt > self._retries:
                    raise MidtransError(f"{method} {path}: {reason} after {attempt} attempts") from None
                log.warning("midtrans %s %s: %s (attempt %d), retrying", method, path, reason, attempt)
            else:
                if response.status_code in RETRYABLE_STATUS:
                    if attempt > self._retries:
                        raise MidtransError(
                            f"{method} {path}: HTTP {response.status_code} after {attempt} attempts",
                            status=response.status_code)
                    log.warning("midtrans %s %s: HTTP %d (attempt %d), retrying", method, path,
                                response.status_code, attempt)
                else:
                    return _json_body(response, method, path)
            await asyncio.sleep(self._delay(attempt))

    def _delay(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(max, base * 2^(attempt-1)))."""
        return random.uniform(0, min(self._max_backoff, self._backoff * 2 ** (attempt - 1)))


def _json_body(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 404:
        # Midtrans' own "Transaction doesn't exist" carries status_code "404" in
        # its JSON body; a bare 404 means a wrong base URL, never "not found".
        if isinstance(body, dict) and str(body.get("status_code")) == "404":
            return body
        raise MidtransError(f"{method} {path}: HTTP 404 without a Midtrans body "
                            "(check MIDTRANS_API_BASE_URL)", status=404)
    if response.status_code in (401, 403):
        raise MidtransError(f"{method} {path}: HTTP {response.status_code} (check MIDTRANS_SERVER_KEY)",
                            status=response.status_code)
    if not isinstance(body, dict):
        raise MidtransError(f"{method} {path}: HTTP {response.status_code} with a non-JSON body",
                            status=response.status_code)
    if response.status_code >= 400:
        raise MidtransError(f"{method} {path}: HTTP {response.status_code}", status=response.status_code)
    return body


def _is_not_found(body: dict[str, Any]) -> bool:
    return str(body.get("status_code")) == "404"
