"""Checkout: create an order and its Snap transaction, with Midtrans' payment
window equal to the order's hold.

One entry point, three faces: :func:`checkout` (async, over a pool and a
MidtransClient), :func:`run_checkout` (sync, opens its own), `payments
checkout` (CLI) and ``POST /checkout`` on `serve` (:func:`handle_request`,
behind ``PAYMENTS_SHOP_API_TOKEN``).

1. ``payments.begin_checkout`` creates the order (``create_ticket_order`` /
   ``create_product_order``, expires_at = now + hold) or finds it, and either
   returns its stored Snap token (a retry: same token, nothing created), or
   claims the Snap call for this process (a row with an expiry, so a runner
   that died mid-call is taken over), or says another process is asking Snap
   right now (then this one waits for that token).
2. ``POST /snap/v1/transactions`` with ``expiry`` = the order's window
   (``start_time`` = the order's created_at, whole minutes up to its
   expires_at: Midtrans' window closes no later than the local hold), the
   kind in ``custom_field1``, the customer details and, when every item is
   priced, ``item_details``.
3. ``payments.finish_checkout`` stores token and redirect_url (first wins).

If Snap refuses or cannot be reached, ``payments.abandon_checkout`` closes
the order's window at once (``expire_order``: capacity / stock back on sale)
and the caller gets :class:`CheckoutError` (HTTP 502 refused, 503
unreachable). Nothing here logs the Snap token, the customer details or the
shop API token.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from runner import db
from runner.midtrans import MidtransClient, MidtransError, Refused, SnapToken
from runner.settings import Settings, SettingsError, parse_duration

log = logging.getLogger("payments.checkout")

CHECKOUT_PATH = "/checkout"
DEFAULT_HOLD = 15 * 60.0          # seconds, when the order names none
KINDS = ("ticket", "product")
BUSY_POLL = 0.2                   # seconds between looks at a checkout another process is finishing
MAX_CUSTOMER_BYTES = 8192
ORDER_FIELDS = {"order_number", "kind", "items", "gross_amount", "currency", "customer_details", "hold"}

# SQLSTATE -> (HTTP status, reason)
_SQL_ERRORS = {
    "PM002": (409, "order_exists"),
    "PM003": (409, "no_capacity"),
    "PM004": (409, "no_stock"),
    "PM005": (400, "unknown_slot"),
    "PM006": (400, "unknown_variant"),
    "PM007": (400, "bad_quantity"),
    "PM008": (400, "bad_items"),
    "PM009": (400, "bad_order"),
    "PM014": (400, "hold_too_long"),
    "PM030": (409, "order_conflict"),
    "PM031": (409, "window_too_short"),
}


@dataclass
class CheckoutError(Exception):
    """A checkout that did not end with a token: HTTP status, a reason word, one line."""

    status: int
    reason: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "reason": self.reason, **self.extra}


def parse_order(payload: Any) -> dict[str, Any]:
    """The checkout input, checked for shape (the SQL API checks the rest):
    order_number, kind (ticket | product), items (non-empty array of objects),
    gross_amount (> 0), currency (default IDR), customer_details (object,
    optional), hold (a duration like "15m" or seconds; default 15 minutes)."""
    def bad(message: str) -> CheckoutError:
        return CheckoutError(400, "bad_request", message)

    if not isinstance(payload, dict):
        raise bad("the order must be a JSON object")
    unknown = sorted(set(payload) - ORDER_FIELDS)
    if unknown:
        raise bad(f"unknown fields: {', '.join(unknown)[:200]}")
    number = payload.get("order_number")
    if not isinstance(number, str) or not number.strip():
        raise bad("order_number must be a non-empty string")
    kind = payload.get("kind")
    if kind not in KINDS:
        raise bad("kind must be ticket or product")
    items = payload.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise bad("items must be a non-empty array of objects")
    amount = _amount(payload.get("gross_amount"))
    if amount is None:
        raise bad("gross_amount must be a positive number")
    currency = payload.get("currency", "IDR")
    if not isinstance(currency, str):
        raise bad("currency must be a string")
    customer = payload.get("customer_details")
    if customer is not None and (not isinstance(customer, dict)
                                 or len(json.dumps(customer)) > MAX_CUSTOMER_BYTES):
        raise bad(f"customer_details must be an object of at most {MAX_CUSTOMER_BYTES} bytes")
    hold = payload.get("hold", DEFAULT_HOLD)
    if isinstance(hold, bool) or not isinstance(hold, int | float | str):
        raise bad("hold must be a duration like 15m or a number of seconds")
    try:
        seconds = float(hold) if isinstance(hold, int | float) else parse_duration(hold, "hold")
    except SettingsError as exc:
        raise bad(str(exc)) from None
    if not 60 <= seconds <= 366 * 86400:
        raise bad("hold must be at least 1 minute (Snap counts its expiry in whole minutes)")
    return {"order_number": number, "kind": kind, "items": items, "gross_amount": amount,
            "currency": currency, "customer_details": customer, "hold": seconds}


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _number(value: Decimal) -> int | float:
    """Snap wants IDR amounts without decimals: an integral amount as an integer."""
    return int(value) if value == value.to_integral_value() else float(value)


def snap_request(order: dict[str, Any], checkout: dict[str, Any]) -> dict[str, Any]:
    """The body of POST /snap/v1/transactions for a claimed checkout."""
    body: dict[str, Any] = {
        "transaction_details": {"order_id": checkout["order_number"],
                                "gross_amount": _number(Decimal(str(checkout["gross_amount"])))},
        "expiry": checkout["snap_expiry"],
        "custom_field1": checkout["kind"],
    }
    if order.get("customer_details"):
        body["customer_details"] = order["customer_details"]
    items = order.get("items") or []
    prices = [_amount(i.get("unit_price")) if i.get("unit_price") not in (0, "0") else Decimal(0)
              for i in items]
    if items and all(p is not None for p in prices):
        details = []
        for item, price in zip(items, prices, strict=True):
            ref = next((str(item[k]) for k in ("slot", "sku", "slot_id", "variant_id") if k in item), "item")
            name = item.get("name") if isinstance(item.get("name"), str) else ref
            details.append({"id": ref[:50], "name": name[:50], "price": _number(price or Decimal(0)),
                            "quantity": item.get("quantity")})
        body["item_details"] = details
    return body


def new_holder() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(4)}"


def claim_ttl(settings: Settings) -> float:
    """How long a claim on the Snap call lasts: every attempt with its timeout and backoff, plus slack."""
    return min(3600.0, max(5.0, (settings.http_retries + 1) * (settings.http_timeout + 8.0) + 5.0))


def result(row: dict[str, Any], *, replayed: bool) -> dict[str, Any]:
    return {"order_number": row["order_number"], "kind": row["kind"], "status": row["status"],
            "token": row["snap_token"], "redirect_url": row["redirect_url"],
            "expires_at": row["expires_at"], "snap_expiry": row["snap_expiry"],
            "snap_expires_at": row["snap_expires_at"], "created": bool(row.get("created")),
            "replayed": replayed}


def _closed(row: dict[str, Any]) -> CheckoutError:
    return CheckoutError(409, "order_closed",
                         f"order {row['order_number']} is {row['status']} and can no longer be paid; "
                         "use a new order number", {"order_number": row["order_number"],
                                                    "status": row["status"]})


async def _call(pool: AsyncConnectionPool, name: str, **params: Any) -> dict[str, Any]:
    """One SQL API call; database failures become CheckoutError."""
    try:
        async with pool.connection(timeout=5.0) as conn:
            row = await db.fetch_one(conn, name, **params)
        return row["result"]
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise CheckoutError(503, "db_unavailable", f"database unavailable ({type(exc).__name__}); retry") \
            from None
    except psycopg.Error as exc:
        state = exc.sqlstate or ""
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        status, reason = _SQL_ERRORS.get(state, (400, "bad_order") if state.startswith("22")
                                         else (503, "db_error"))
        raise CheckoutError(status, reason, first, {"sqlstate": state}) from None


async def checkout(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient,
                   order: dict[str, Any], *, holder: str | None = None,
                   wait: float | None = None) -> dict[str, Any]:
    """Create the order and its Snap transaction (or return the stored one).

    ``order`` is the raw input or what :func:`parse_order` returns (checked
    here either way). Returns order_number, kind, status, token, redirect_url,
    expires_at, snap_expiry, snap_expires_at, created (this call created the
    order), replayed (the token was stored by an earlier call). Raises
    :class:`CheckoutError`."""
    order = parse_order(order)   # idempotent: an order parse_order returned passes unchanged
    holder = holder or new_holder()
    ttl = claim_ttl(settings)
    deadline = time.monotonic() + (ttl if wait is None else wait)
    params = {"order_id": order["order_number"], "kind": order["kind"], "items": db.jsonb(order["items"]),
              "hold": f"{order['hold']} seconds", "gross_amount": order["gross_amount"],
              "currency": order["currency"], "holder": holder, "claim_ttl": f"{ttl} seconds"}
    created = False
    while True:
        row = await _call(pool, "begin_checkout", **params)
        created = created or bool(row["created"])
        if row["state"] == "ready":
            return result({**row, "created": created}, replayed=not created)
        if row["state"] == "closed":
            raise _closed(row)
        if row["state"] == "claimed":
            break
        if time.monotonic() >= deadline:   # busy: another process is asking Snap
            raise CheckoutError(503, "checkout_in_progress",
                                "another request is creating the Snap transaction of "
                                f"{order['order_number']}; retry", {"order_number": order["order_number"]})
        await asyncio.sleep(BUSY_POLL)

    body = snap_request(order, row)
    try:
        answer = await client.snap_create(settings.midtrans_snap_base_url, body)
    except MidtransError as exc:
        down = exc.status is None or exc.status >= 500   # unreachable or failing; else our key / URL
        failure = CheckoutError(503 if down else 502, "snap_unavailable" if down else "snap_error",
                                f"Midtrans Snap could not create the transaction: {str(exc)[:300]}")
        return await _abandon(pool, order, holder, failure, created)
    if isinstance(answer, Refused):
        messages = answer.body.get("error_messages") or []
        reason = "; ".join(str(m) for m in messages)[:300] or "no reason given"
        failure = CheckoutError(502, "snap_refused", f"Midtrans Snap refused the transaction: {reason}",
                                {"snap_errors": [str(m)[:300] for m in messages[:10]]})
        return await _abandon(pool, order, holder, failure, created)
    assert isinstance(answer, SnapToken)
    row = await _call(pool, "finish_checkout", order_id=order["order_number"], holder=holder,
                      snap_token=answer.token, redirect_url=answer.redirect_url)
    if row["state"] != "ready":
        raise _closed(row)
    return result({**row, "created": created}, replayed=False)


async def _abandon(pool: AsyncConnectionPool, order: dict[str, Any], holder: str,
                   failure: CheckoutError, created: bool) -> dict[str, Any]:
    """Snap did not give a token: release the order now (unless another attempt stored one)."""
    row = await _call(pool, "abandon_checkout", order_id=order["order_number"], holder=holder,
                      reason=f"{failure.reason}: {failure.message}")
    if row["state"] == "ready":    # another attempt's token arrived meanwhile
        return result({**row, "created": created}, replayed=True)
    failure.extra.update({"order_number": order["order_number"], "status": row["status"],
                          "released": row["state"] == "released" and row["status"] != "pending"})
    raise failure


async def _run(settings: Settings, order: Any) -> dict[str, Any]:
    pool = db.make_pool(settings.require_database(), max_size=2)
    client = MidtransClient(settings.midtrans_api_base_url, settings.require_server_key(),
                            timeout=settings.http_timeout, retries=settings.http_retries)
    try:
        await pool.open(wait=False)
        return await checkout(settings, pool, client, parse_order(order))
    finally:
        await client.aclose()
        await pool.close()


def run_checkout(settings: Settings, order: Any) -> dict[str, Any]:
    """:func:`checkout` with a pool and a Midtrans client of its own (CLI, demo, scripts).
    ``order`` is the raw input (a dict as in docs); raises CheckoutError or SettingsError."""
    return asyncio.run(_run(settings, order))


def jsonable(value: dict[str, Any]) -> dict[str, Any]:
    """A checkout result with its timestamps as ISO strings."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat")
                                 else str(v)))


# -- POST /checkout on `serve` --------------------------------------------------------------

def authorized(scope: dict, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant-time compare)."""
    header = b""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            header = value
    scheme, _, given = header.strip().partition(b" ")
    return (scheme.lower() == b"bearer" and bool(token)
            and hmac.compare_digest(given.strip(), token.encode("utf-8")))


def log_refusal(status: int, outcome: str) -> None:
    """The one log line of a request refused before its body was read (no token, wrong method)."""
    log.warning("checkout", extra={"order_id": None, "outcome": outcome, "http_status": status})


async def handle_request(settings: Settings, pool: AsyncConnectionPool, client: MidtransClient | None,
                         raw: bytes | None) -> tuple[int, dict[str, Any]]:
    """Answer one ``POST /checkout`` whose token was checked; ``raw`` None = body too large.
    Logs one line (order_id, outcome, http_status), never the token or customer details."""
    started = time.perf_counter()
    order_id = None
    try:
        if raw is None:
            raise CheckoutError(413, "body_too_large", f"body larger than {settings.max_body_bytes} bytes")
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeError, RecursionError):
            raise CheckoutError(400, "malformed_json", "body is not JSON") from None
        order = parse_order(payload)
        order_id = order["order_number"][:100]
        if client is None:
            raise CheckoutError(503, "snap_unavailable", "no Midtrans client configured")
        answer = await checkout(settings, pool, client, order)
        status, body, outcome = 200, jsonable(answer), "created" if answer["created"] else "replayed"
    except CheckoutError as exc:
        status, body, outcome = exc.status, exc.body(), exc.reason
    except Exception as exc:   # a bug: one line, and an answer the shop may retry
        log.debug("checkout handler failed", exc_info=True)
        status, body, outcome = 500, {"error": "internal error; retry", "reason": "internal_error"}, \
            f"internal_error: {type(exc).__name__}"
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    log.log(level, "checkout", extra={"order_id": order_id, "outcome": outcome, "http_status": status,
                                      "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return status, body

