"""The webhook receiver: an ASGI app (served by uvicorn).

``POST /midtrans/notification``
    413 body over the limit, 400 not JSON / missing fields, 403 bad signature
    (all logged in webhook_logs). Then one call to
    ``payments.apply_gateway_status(..., source => 'webhook')``, which also
    refuses (400, logged) a status_code Midtrans never sends with that status:
    the signature does not cover transaction_status or fraud_status.

    With confirmation on (the default) that first call is a trigger only: a
    notification that would pay, fulfil, release, refund, reverse or flag
    comes back as ``confirm`` with nothing written, the runner asks the Status
    API about that transaction and applies *its* answer. If the Status API
    cannot answer within ``PAYMENTS_CONFIRM_TIMEOUT``: 503, nothing applied
    (Midtrans retries, sync follows up). A duplicate or stale notification
    needs no call.

    200 only after the decision committed. 404 unknown order (logged; sync
    covers it); 503 when the database is unavailable or fails unexpectedly
    (Midtrans retries a 503 four times, a 500 only once).
``POST /checkout``  the shop's checkout (runner/checkout.py), only when
    ``PAYMENTS_SHOP_API_TOKEN`` is set (else 404) and only with
    ``Authorization: Bearer <that token>`` (else 401); for the shop's backend,
    never the public.
``GET /healthz``  200 when the database answers, else 503.
``GET /metrics``  Prometheus text format.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from runner import checkout, db
from runner.jobs import answer_params
from runner.metrics import CONTENT_TYPE, Metrics
from runner.midtrans import Found, MidtransClient, MidtransError, NotFound
from runner.settings import Settings
from runner.signature import scrub, verify

log = logging.getLogger("payments.webhook")

NOTIFICATION_PATH = "/midtrans/notification"
REQUIRED_FIELDS = ("order_id", "status_code", "gross_amount", "signature_key", "transaction_status")
OPTIONAL_STRING_FIELDS = ("fraud_status", "transaction_id")
DB_TIMEOUT = 3.0          # seconds to wait for a pooled connection (Midtrans waits 15 s)
LOG_PREFIX_CHARS = 2000   # how much of a rejected body is kept in webhook_logs
RETRYABLE_SQLSTATES = {"40001", "40P01"}

# the notification being answered in this task: what went wrong on the way
# (database down, Status API silent ...) ends up in its one log line
_NOTES: ContextVar[dict[str, Any] | None] = ContextVar("payments_notification", default=None)


def _note(**fields: Any) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.update(fields)


class BodyTooLarge(Exception):
    pass


class WebhookApp:
    def __init__(self, settings: Settings, pool: AsyncConnectionPool, *,
                 metrics: Metrics | None = None, client: MidtransClient | None = None,
                 manage_pool: bool = False) -> None:
        self.settings = settings
        self.pool = pool
        self.metrics = metrics or Metrics()
        self.client = client
        self.manage_pool = manage_pool
        self._server_key = settings.require_server_key()
        if settings.confirm_with_status_api and client is None:
            raise ValueError("confirming notifications with the Status API needs a Midtrans client")
        # bounds the Status API calls this process makes for confirmations
        self._confirm_slots = asyncio.Semaphore(settings.confirm_concurrency)

    # -- ASGI -----------------------------------------------------------------

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path == NOTIFICATION_PATH:
            if method != "POST":
                await _respond(send, 405, {"error": "use POST"}, headers=[(b"allow", b"POST")])
                return
            status, body = await self.notification(scope, receive)
            await _respond(send, status, body)
        elif path == checkout.CHECKOUT_PATH and self.settings.shop_api_token:
            await self._checkout(scope, receive, send)
        elif path == "/healthz" and method == "GET":
            status, body = await self.health()
            await _respond(send, status, body)
        elif path == "/metrics" and method == "GET":
            await self.refresh_metrics()
            await _respond_raw(send, 200, self.metrics.render(), CONTENT_TYPE)
        else:
            await _respond(send, 404, {"error": "not found"})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.manage_pool:
                    await self.pool.open(wait=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.manage_pool:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- POST /midtrans/notification -------------------------------------------

    async def notification(self, scope: dict, receive: Any) -> tuple[int, dict]:
        """Answer one notification; log exactly one line for it, with order_id, outcome and
        http_status as fields (plus decision, reason, duration_ms when known)."""
        started = time.perf_counter()
        notes: dict[str, Any] = {}
        token = _NOTES.set(notes)
        try:
            status, body, outcome = await self._notification(scope, receive)
        except Exception as exc:  # a bug: still one line, counted, and an answer Midtrans retries
            notes["reason"] = f"internal error: {type(exc).__name__}"
            log.debug("notification handler failed", exc_info=True)
            status, body, outcome = 500, {"error": "internal error; retry"}, "internal_error"
        finally:
            _NOTES.reset(token)
        self.metrics.requests.labels(outcome).inc()
        reason = notes.pop("reason", None)
        fields = {"order_id": notes.pop("order_id", None), "outcome": outcome, "http_status": status,
                  **({"decision": body["decision"]} if "decision" in body else {}),
                  **({"reason": reason} if reason else {}), **notes,
                  "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        log.log(level, "notification" + (f": {reason}" if reason else ""), extra=fields)
        return status, body

    async def _notification(self, scope: dict, receive: Any) -> tuple[int, dict, str]:
        limit = self.settings.max_body_bytes
        try:
            raw = await _read_body(scope, receive, limit)
        except BodyTooLarge as exc:
            await self._log_rejection("body_too_large", {"limit": limit, "size": str(exc)})
            return 413, {"error": f"body larger than {limit} bytes"}, "body_too_large"

        try:
            payload, exact = _parse(raw)
            # JSON may escape lone surrogates (\ud800) and NUL (\u0000): neither is
            # text PostgreSQL (or the signature's UTF-8) can take
            _check_text(payload)
        except (ValueError, UnicodeError, RecursionError):
            prefix = raw[:LOG_PREFIX_CHARS].decode("utf-8", "replace")
            prefix = prefix.encode("utf-8", "replace").decode("utf-8")
            await self._log_rejection("malformed_json", {"body_prefix": prefix})
            return 400, {"error": "body is not JSON (UTF-8 text, reasonably nested)"}, "malformed_json"
        if not isinstance(payload, dict):
            await self._log_rejection("malformed_json", {"error": "not a JSON object"},
                                      payload=payload)
            return 400, {"error": "body must be a JSON object"}, "malformed_json"

        missing = [f for f in REQUIRED_FIELDS
                   if not isinstance(exact.get(f), str) or not exact.get(f).strip()]
        order_id = exact.get("order_id") if isinstance(exact.get("order_id"), str) else None
        _note(order_id=order_id[:200] if order_id else order_id)
        if missing:
            await self._log_rejection("missing_fields", {"missing": missing}, payload=payload,
                                      order_id=order_id)
            return 400, {"error": "missing or empty fields: " + ", ".join(missing)}, "missing_fields"
        mistyped = [f for f in OPTIONAL_STRING_FIELDS
                    if payload.get(f) is not None and not isinstance(payload.get(f), str)]
        if mistyped:
            await self._log_rejection("missing_fields", {"not_strings": mistyped}, payload=payload,
                                      order_id=order_id)
            return 400, {"error": "fields must be strings: " + ", ".join(mistyped)}, "missing_fields"

        if not verify(exact["order_id"], exact["status_code"], exact["gross_amount"],
                      exact["signature_key"], self._server_key):
            self.metrics.signature_failures.inc()
            await self._log_rejection("signature_invalid", {}, payload=payload,
                                      order_id=order_id,
                                      transaction_status=exact["transaction_status"],
                                      status_code=exact["status_code"])
            return 403, {"error": "invalid signature"}, "signature_invalid"

        notification = scrub({**payload, **{f: exact[f] for f in REQUIRED_FIELDS}})
        confirm = self.settings.confirm_with_status_api
        first = await self._apply(order_id, answer_params(exact["order_id"], notification, "webhook", None,
                                                          evidence="notification", trigger_only=confirm),
                                  notification)
        if not isinstance(first, dict):
            return first
        if first["decision"] == "confirm":
            confirmed = await self._confirm(exact["order_id"], notification)
            if not isinstance(confirmed, Found):
                return confirmed
            status = scrub(confirmed.body)
            params = answer_params(exact["order_id"], status, "webhook", None, evidence="status_api")
            params["payload"] = db.jsonb({"notification": notification, "status": status})
            first = await self._apply(order_id, params, notification)
            if not isinstance(first, dict):
                return first
        return self._outcome(exact["order_id"], first)

    def _outcome(self, order_id: str, result: dict) -> tuple[int, dict, str]:
        decision = result["decision"]
        if decision == "status_inconsistent":  # logged by the SQL API with its reason
            return 400, {"error": "status_code does not match transaction_status", "order_id": order_id,
                         "decision": decision}, "status_inconsistent"
        return 200, {"status": "ok", "order_id": order_id, "decision": decision}, "applied"

    async def _confirm(self, order_id: str, notification: dict) -> Found | tuple[int, dict, str]:
        """Ask the Status API about the notified transaction; its answer is what gets applied."""
        assert self.client is not None
        key = notification.get("transaction_id") or order_id
        try:
            async with asyncio.timeout(self.settings.confirm_timeout):
                async with self._confirm_slots:
                    answer = await self.client.status(key)
        except (MidtransError, TimeoutError) as exc:
            reason = str(exc) or f"no answer within {self.settings.confirm_timeout:g}s"
            self.metrics.confirmations.labels("unavailable").inc()
            _note(reason=f"status API could not confirm: {reason[:300]}")
            await self._log_rejection("confirmation_unavailable", {"error": reason[:300]},
                                      payload=notification, order_id=order_id,
                                      transaction_status=notification.get("transaction_status"),
                                      status_code=notification.get("status_code"))
            return 503, {"error": "Midtrans Status API unavailable; retry"}, "status_api_unavailable"
        if isinstance(answer, NotFound):
            self.metrics.confirmations.labels("not_found").inc()
            await self._log_rejection("confirmation_not_found", {"asked": key},
                                      payload=notification, order_id=order_id,
                                      transaction_status=notification.get("transaction_status"),
                                      status_code=notification.get("status_code"))
            return 404, {"error": "Midtrans has no such transaction"}, "status_not_found"
        about = (str(answer.body.get("order_id")), str(answer.body.get("transaction_id")))
        if about[0] != order_id or (key != order_id and about[1] != key):
            # the unsigned transaction_id named another order's transaction
            self.metrics.confirmations.labels("mismatch").inc()
            await self._log_rejection("confirmation_mismatch",
                                      {"asked": key, "answer_order_id": about[0][:100],
                                       "answer_transaction_id": about[1][:100]},
                                      payload=notification, order_id=order_id,
                                      transaction_status=notification.get("transaction_status"),
                                      status_code=notification.get("status_code"))
            return (400, {"error": "the notified transaction belongs to another order"},
                    "confirmation_mismatch")
        self.metrics.confirmations.labels("confirmed").inc()
        return answer

    async def _apply(self, order_id: str | None, params: dict,
                     notification: dict) -> dict | tuple[int, dict, str]:
        """One apply_gateway_status call: its result, or the HTTP answer when it could not be made."""
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                async with self._connection() as conn:
                    row = await db.fetch_one(conn, "apply_gateway_status", **params)
                self.metrics.apply_seconds.labels("webhook").observe(time.perf_counter() - started)
                return row["result"]
            except (PoolTimeout, psycopg.OperationalError) as exc:
                _note(reason=f"database unavailable ({type(exc).__name__})")
                return 503, {"error": "database unavailable; retry"}, "db_unavailable"
            except psycopg.Error as exc:
                state = exc.sqlstate or ""
                if state in RETRYABLE_SQLSTATES and attempt == 1:
                    continue
                if state == db.UNKNOWN_ORDER:
                    await self._log_rejection("unknown_order", {"sqlstate": state},
                                              payload=notification, order_id=order_id,
                                              transaction_status=params["transaction_status"],
                                              status_code=params["status_code"])
                    return 404, {"error": "unknown order"}, "unknown_order"
                if state == db.PAYLOAD_TOO_LARGE:  # larger than the database's max_payload_bytes
                    await self._log_rejection("body_too_large", {"sqlstate": state}, order_id=order_id)
                    return (413, {"error": "notification too large to store", "sqlstate": state},
                            "body_too_large")
                if state == db.BAD_ARGUMENT or state.startswith("22"):
                    await self._log_rejection("rejected", {"sqlstate": state, "message": _first_line(exc)},
                                              payload=notification, order_id=order_id)
                    return 400, {"error": "notification rejected", "sqlstate": state}, "rejected"
                if state in RETRYABLE_SQLSTATES:
                    _note(reason=f"database busy (SQLSTATE {state})")
                    return 503, {"error": "database busy; retry"}, "db_unavailable"
                # Midtrans retries a 500 once and a 503 four times: an unexpected
                # failure is worth the retries (and loses nothing meanwhile)
                _note(reason=f"unexpected database error: {state} {_first_line(exc)[:300]}", sqlstate=state)
                return 503, {"error": "internal error; retry", "sqlstate": state}, "error"
        raise AssertionError("unreachable")

    async def _log_rejection(self, event_type: str, detail: dict, *, payload: Any = None,
                             order_id: str | None = None, transaction_status: str | None = None,
                             status_code: str | None = None) -> None:
        """Record a refused notification (payments.log_rejection: the event type fixes its
        outcome and signature_valid); if the database is down, the log line is all we have."""
        payload, detail = scrub(payload), scrub(detail)
        try:
            async with self._connection() as conn:
                await db.fetch_one(conn, "log_rejection", event_type=event_type, order_id=order_id,
                                   detail=db.jsonb(detail),
                                   payload=db.jsonb(payload if isinstance(payload, dict) else
                                                    None if payload is None else {"value": payload}),
                                   transaction_status=transaction_status, status_code=status_code)
        except (PoolTimeout, psycopg.Error) as exc:
            # the notification's log line is then all that records it
            _note(webhook_log=f"not written ({type(exc).__name__})")

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A pooled connection; the wait for it is measured (a timeout is counted by the pool)."""
        started = time.perf_counter()
        async with self.pool.connection(timeout=DB_TIMEOUT) as conn:
            self.metrics.pool_acquire_seconds.observe(time.perf_counter() - started)
            yield conn

    # -- POST /checkout (only with PAYMENTS_SHOP_API_TOKEN; never public) -------

    async def _checkout(self, scope: dict, receive: Any, send: Any) -> None:
        """The shop's backend creates an order and its Snap transaction (runner/checkout.py).
        Without ``Authorization: Bearer <PAYMENTS_SHOP_API_TOKEN>``: 401, nothing read or created."""
        if not checkout.authorized(scope, self.settings.shop_api_token.reveal()):
            checkout.log_refusal(401, "unauthorized")
            await _respond(send, 401, {"error": "missing or wrong bearer token", "reason": "unauthorized"},
                           headers=[(b"www-authenticate", b'Bearer realm="payments"')])
            return
        if scope["method"] != "POST":
            checkout.log_refusal(405, "method_not_allowed")
            await _respond(send, 405, {"error": "use POST"}, headers=[(b"allow", b"POST")])
            return
        try:
            raw: bytes | None = await _read_body(scope, receive, self.settings.max_body_bytes)
        except BodyTooLarge:
            raw = None
        status, body = await checkout.handle_request(self.settings, self.pool, self.client, raw)
        await _respond(send, status, body)

    # -- GET /healthz, /metrics -----------------------------------------------

    async def health(self) -> tuple[int, dict]:
        try:
            async with self.pool.connection(timeout=2.0) as conn:
                await db.fetch_one(conn, "ping")
            return 200, {"status": "ok", "database": "ok"}
        except (PoolTimeout, psycopg.Error):
            return 503, {"status": "unavailable", "database": "unreachable"}

    async def refresh_metrics(self) -> None:
        try:
            async with self.pool.connection(timeout=2.0) as conn:
                rows = await db.fetch_all(conn, "last_runs")
                alerts = await db.fetch_all(conn, "alerts")
            self.metrics.set_runs(rows, time.time())
            self.metrics.set_alerts(alerts)
            self.metrics.database_up.set(1)
        except (PoolTimeout, psycopg.Error):
            self.metrics.database_up.set(0)


MAX_JSON_DEPTH = 32   # Midtrans' bodies nest 3 deep; anything past this is refused as malformed


def _check_text(value: Any) -> None:
    """Raise ValueError / UnicodeError for strings PostgreSQL cannot store, or for
    nesting deeper than MAX_JSON_DEPTH. Iterative: a body json.loads accepted can
    still be too deep for json.dumps further down the stack (a RecursionError
    there would be a 500), so depth is bounded here, once."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("NUL character")
            item.encode("utf-8")  # lone surrogates raise UnicodeEncodeError
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH}")
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth))
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _parse(raw: bytes) -> tuple[Any, Any]:
    """The body as JSON, and the same with the fields the signature covers exactly as received.

    Midtrans sends every such field as a JSON string, so the body is parsed
    once and both are the same object; only when one came as a JSON number
    (150000.00) is it read again with numbers as text ("150000.00", not
    150000.0), since the signature covers the exact string."""
    payload = json.loads(raw)
    if isinstance(payload, dict) and any(type(payload.get(f)) in (int, float) for f in REQUIRED_FIELDS):
        return payload, json.loads(raw, parse_float=str, parse_int=str)
    return payload, payload


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


async def _read_body(scope: dict, receive: Any, limit: int) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge(value.decode())
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f">{limit}")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _respond(send: Any, status: int, body: dict, headers: list | None = None) -> None:
    await _respond_raw(send, status, json.dumps(body).encode(), "application/json", headers)


async def _respond_raw(send: Any, status: int, body: bytes, content_type: str,
                       headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
