"""A Midtrans simulator: one merchant's slice of Midtrans, in memory.

Midtrans cannot be reached from tests, demos or a developer's laptop, so this
module plays its part, closely enough that the official ``midtransclient``
accepts its answers. It is a raw ASGI application (served by uvicorn) with
three faces.

**Merchant API** (Basic auth ``base64(server_key + ":")``, Midtrans shapes).
``{id}`` is an order_id (its latest transaction) or a transaction_id.

* ``POST /snap/v1/transactions``: HTTP 201 ``{token, redirect_url}``; errors
  are ``{"error_messages": [...]}`` with a real HTTP 400/401. Accepts
  ``custom_field1..3`` and ``expiry {start_time?, unit, duration}`` (unit
  day/hour/minute, plural accepted; duration an integer >= 1; stored and shown
  in the control snapshot, nothing else). One Snap session per order_id, as
  Midtrans (order_id is unique per transaction; a lost token cannot be asked
  for again): a second token request for an order_id that already has a
  token, or a transaction that has not failed, is refused with HTTP 400
  "transaction_details.order_id has already been taken"; after an expired,
  cancelled, denied or failed transaction a new token is issued. The control
  snapshot counts every token request of an order (``snap_requests``).
* ``POST /v2/charge``: a new transaction. Non-card payments start ``pending``
  (HTTP 201, body 201). ``credit_card`` needs ``credit_card.token_id`` (a
  non-empty string), else body ``411`` "Token id is missing, invalid, or timed
  out" under HTTP 200. ``credit_card.type == "authorize"`` pre-authorises
  (``authorize``/accept, 200); otherwise the card is captured at once.
  *Simulator convention*: a token_id starting with ``"deny"`` is denied by the
  fraud detection (``deny``/deny, 202, "Denied by FDS"), one starting with
  ``"challenge"`` is challenged (``capture``/challenge, 201, "Challenge by
  FDS"; not for pre-authorisation), any other is ``capture``/accept (200).
  Card answers are HTTP 200. ``cstore.store`` is ``alfamart`` (default) or
  ``indomaret``. Accepts ``custom_field1..3`` (strings <= 255; the charge
  answer does not echo them, as in the docs' sample). A second charge for an
  order whose latest transaction is alive answers body ``406``.
* ``GET /v2/{id}/status``: the transaction (see "status_code" below); an
  unknown id is HTTP 404 + body 404 "Transaction doesn't exist." (HTTP 200 +
  body 404 under the ``not_found_in_body`` fault).
* ``POST /v2/{id}/cancel`` (from ``pending``, ``authorize`` or an unsettled
  ``capture`` of any fraud status -> ``cancel``, body 200 "Success,
  transaction is canceled") and ``POST /v2/{id}/expire`` (from ``pending`` ->
  ``expire``, body 407 "Success, transaction has expired").
* ``POST /v2/{id}/approve`` / ``POST /v2/{id}/deny``: only a challenged card
  capture -> ``capture``/accept (200 "Success, transaction is approved") or
  ``deny``/deny (200 "Success, transaction is denied").
* ``POST /v2/capture`` ``{transaction_id, gross_amount?}`` (by transaction_id
  only): only from ``authorize`` -> ``capture``/accept (200 "Success, Credit
  Card capture transaction is successful"). A lower ``gross_amount`` becomes
  the transaction's gross_amount; a higher one, a non-integer or a missing
  transaction_id is an HTTP 400 validation answer (the simulator's choice).
* ``POST /v2/{id}/refund`` ``{refund_key?, amount?, reason?}`` and
  ``POST /v2/{id}/refund/online/direct`` (same body): see "Refunds".

Refusals are bodies under HTTP 200: ``412`` "Merchant cannot modify the
status of the transaction" (or a more specific message, below), ``414``,
``411``, ``406``. Validation errors are HTTP 400 + body ``400`` with
``validation_messages``; an unknown id on any ``/v2/{id}/...`` call is HTTP
404 + body 404; a bad key HTTP 401 + body 401.

**status_code**, always a string, depends on the source (``status_code_for``):

* notifications: settlement/authorize/refund/partial_refund/chargeback/
  partial_chargeback 200, capture accept 200, capture challenge 201, pending
  201, deny/cancel/expire/failure 202;
* ``GET status`` answers: the same, except cancel 200 and expire 407;
* action answers: cancel 200, expire 407, approve/capture 200 (capture/accept),
  deny 200 (deny/deny), refund/partial_refund 200; a direct refund the bank
  refuses 202.

**Bodies** (status answers and notifications alike): status_code,
status_message ("Success, transaction is found" / "midtrans payment
notification"), transaction_id, order_id, merchant_id, gross_amount
("150000.00"), currency, payment_type, transaction_time (Jakarta time,
``YYYY-MM-DD HH:MM:SS``, like settlement_time and the refunds' times) and
transaction_status, then when they apply: fraud_status, store (cstore),
settlement_time, refund_amount (cumulative) and refunds, custom_field1..3
(only those set), and signature_key = sha512(order_id + status_code +
gross_amount + server_key).
fraud_status, as in the docs' samples: cards carry their real one; gopay,
qris, shopeepay, bank_transfer, echannel, akulaku and cstore at Alfamart carry
``accept``; cstore at Indomaret and every other payment type carry none.

**Refunds.** Only credit_card, gopay, shopeepay, qris, dana, ovo, kredivo and
akulaku (others: 412 "... cannot be refunded through the API"), only from
``settlement`` or ``partial_refund`` (else 412 "Merchant cannot modify the
status of the transaction"), only within the refund window after
settlement_time (the simulator's choice, after the docs' per-method windows:
``REFUND_WINDOW_DAYS``, e.g. ovo 7, kredivo 14, qris/dana 45, card/gopay/
akulaku 180, shopeepay 365 days; past it: 412 "Refund is rejected: the refund
window ... has passed"). ``amount`` defaults to what is left; more than that,
or <= 0: 414 "Refund request is rejected due to invalid amount". ``reason``
defaults to "refund request from merchant"; a missing ``refund_key`` gets a
generated one (letters, digits, ``-``, ``_`` only). Success: body 200
"Success, refund request is approved" (direct: "... approved by the bank"),
transaction_status ``refund`` when nothing is left else ``partial_refund``,
``refund_chargeback_id`` (an integer, unique per refund), ``refund_amount``
(this refund), ``refund_key`` and transaction_id, order_id, gross_amount,
payment_type, transaction_time, currency. The same refund_key on the same
transaction replays the first answer and refunds nothing more; a new key is a
new refund. Each new refund adds ``{refund_chargeback_id, refund_amount,
created_at, reason, refund_key, refund_method: "online", bank_confirmed_at}``
to ``refunds`` and sends one notification (confirmed at once, so
``bank_confirmed_at`` equals ``created_at``; Midtrans sends a second one on
bank confirmation, the simulator does not). Direct refunds are for gopay,
qris, shopeepay, credit_card, akulaku and kredivo only (else 412); under the
``direct_refund.deny_by_bank`` fault the bank refuses: body 202 "Refund denied
by the bank", transaction_status unchanged, refund_amount "0.00", nothing
refunded, no notification.

**Notification URLs.** ``X-Override-Notification`` / ``X-Append-Notification``
on ``/v2/charge`` and ``/snap/v1/transactions``: up to 3 comma-separated
http(s) URLs (more: a 400 validation answer). Override: that order's
notifications go only there; append: to ``notify_url`` and there; both:
override wins. They belong to the order and are replaced by the next charge
or Snap create of that order (absent headers: back to ``notify_url``).

**Control API** (``/_sim/...``, no auth, JSON): ``GET health``;
``GET/POST transactions`` (snapshot / create: order_id, gross_amount,
payment_type, notify, faults, plus ``card`` = pending (default) | authorize |
capture | challenge | deny for credit_card, ``store`` for cstore,
``custom_field1..3`` and ``override_notification`` / ``append_notification``
(header syntax), which replace the order's only when given);
``POST transactions/{order_id}/{action}`` with *real* Midtrans transitions
(``ACTIONS``: settle, capture, accept_challenge, deny, cancel, expire, fail,
refund, partial_refund, chargeback, reverse, pay_again; capture, cancel and
expire also apply to an ``authorize`` card transaction; refund and
partial_refund take optional amount / refund_key / reason and are recorded
like API refunds, but also work where Midtrans' dashboard can refund and the
API cannot); ``POST transactions/{id}/age {"days": N}`` moves a transaction's
transaction_time and settlement_time N days into the past (to pass refund
windows; no notification); ``POST notify/{id}`` re-sends a notification;
``GET/POST faults`` (``status_api``: mode ok | 503 | 500 | 429 | timeout |
not_found_in_body, count, delay, for GET status, expire and cancel;
``direct_refund``: ``{"deny_by_bank": N}`` refuses the next N direct
refunds; ``refund``: ``{"lose_answer": N}``: the next N refund or direct
refund calls are made, then their answer stalls until the client hangs up,
as when a timeout hides a refund Midtrans did); ``POST release-held``;
``GET notifications``; ``GET deliveries``; ``POST reset``.

**HTTP notifications** go to the order's URLs (above), each URL with its own
retries: Midtrans' schedule (2 m, 10 m, 30 m, 1.5 h, 3.5 h, scaled by
``retry_scale``): 2xx succeeds; HTTP 500 gets 1 retry, 503 gets 4, 400/404
get 2; 301/302/303 get none (the attempt fails, delivery ends); 307/308 are
followed within the attempt (the Location, absolute or relative, with POST
and the same body) up to 5 redirects, a 6th fails the attempt
(``too_many_redirects``); anything else (other codes, timeouts, connection
errors) gets 5. Every attempt is in ``deliveries`` with its ``url``,
``final_url`` and ``redirects`` (``url`` null for a dropped one). Per-notification faults: ``drop``,
``delay``, ``duplicate``, ``hold`` (released in reverse order, to reorder)
and ``bad_signature``.

A customer-facing page at the Snap ``redirect_url`` lets a person "pay" an
order in a browser during demos.

State lives on the :class:`Simulator` object. Everything that changes it runs
on the server's event loop without awaiting in between, so requests never see
half-made changes; a lock also lets another thread (a test) read it safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import html
import itertools
import json
import re
import signal
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import httpx
import uvicorn

from runner.signature import basic_auth, signature

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Json = dict[str, Any]
Headers = list[tuple[str, str]]
#: An order's notification targets: (override URLs or None, append URLs).
NotificationUrls = tuple[list[str] | None, list[str]]

#: Midtrans' notification retry delays in seconds (before retry 1, 2, ...).
RETRY_SCHEDULE: tuple[float, ...] = (120, 600, 1800, 5400, 12600)
#: Redirects (307/308) followed within one delivery attempt.
MAX_REDIRECTS = 5
#: How long a "timeout" status-API fault stalls: longer than any sane client timeout.
STALL_SECONDS = 30.0
MERCHANT_ID = "G000000000"
JAKARTA = timezone(timedelta(hours=7), "WIB")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

FAILED_FINAL = frozenset({"expire", "cancel", "deny", "failure"})
CARD = "credit_card"
#: Payment types whose settlement can be reversed (Permata VA, Mandiri bill, Indomaret/Alfamart).
REVERSIBLE = frozenset({"bank_transfer", "echannel", "cstore"})
#: Payment types the Refund API refunds.
REFUNDABLE = frozenset({"credit_card", "gopay", "shopeepay", "qris", "dana", "ovo", "kredivo", "akulaku"})
#: Payment types the Direct Refund API refunds.
DIRECT_REFUNDABLE = frozenset({"gopay", "qris", "shopeepay", "credit_card", "akulaku", "kredivo"})
#: Days after settlement_time a refund is accepted (the simulator's choice, after the docs).
REFUND_WINDOW_DAYS: dict[str, int] = {"credit_card": 180, "gopay": 180, "shopeepay": 365, "qris": 45,
                                      "dana": 45, "ovo": 7, "kredivo": 14, "akulaku": 180}
#: Non-card payment types whose bodies carry fraud_status "accept" (cstore: Alfamart only).
FRAUD_ACCEPT = frozenset({"gopay", "qris", "shopeepay", "bank_transfer", "echannel", "akulaku"})
CSTORES = ("alfamart", "indomaret")
#: Control create ``card`` option -> (transaction_status, fraud_status).
CARD_STARTS: dict[str, tuple[str, str]] = {
    "pending": ("pending", "accept"), "authorize": ("authorize", "accept"),
    "capture": ("capture", "accept"), "challenge": ("capture", "challenge"), "deny": ("deny", "deny")}
CUSTOM_FIELDS = ("custom_field1", "custom_field2", "custom_field3")
EXPIRY_UNITS = frozenset({"day", "days", "hour", "hours", "minute", "minutes"})
MAX_NOTIFICATION_URLS = 3
STATUS_FAULT_MODES = frozenset({"ok", "503", "500", "429", "timeout", "not_found_in_body"})
NOTIFY_FAULT_KEYS = frozenset({"drop", "delay", "duplicate", "hold", "bad_signature"})
ACTIONS = ("settle", "capture", "accept_challenge", "deny", "cancel", "expire", "fail", "refund",
           "partial_refund", "chargeback", "reverse", "pay_again")
CANNOT_MODIFY = "Merchant cannot modify the status of the transaction"
DEFAULT_REFUND_REASON = "refund request from merchant"
REFUND_KEY = re.compile(r"[A-Za-z0-9_-]+")

#: Where a body comes from: an HTTP notification, a GET status answer, an action answer.
STATUS_SOURCES = ("notification", "status", "action")
_NOTIFICATION_CODES = {
    "pending": "201", "settlement": "200", "authorize": "200", "deny": "202", "cancel": "202",
    "expire": "202", "failure": "202", "refund": "200", "partial_refund": "200",
    "chargeback": "200", "partial_chargeback": "200"}
_STATUS_CODES = {**_NOTIFICATION_CODES, "cancel": "200", "expire": "407"}
_ACTION_CODES = {**_STATUS_CODES, "deny": "200"}
_CODES = {"notification": _NOTIFICATION_CODES, "status": _STATUS_CODES, "action": _ACTION_CODES}


class SimError(Exception):
    """A request the simulator refuses: HTTP status plus JSON body."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _conflict(message: str) -> SimError:
    return SimError(409, {"error": message})


def _bad_request(message: str) -> SimError:
    return SimError(400, {"error": message})


def _now_jakarta() -> str:
    return datetime.now(JAKARTA).strftime(TIME_FORMAT)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _parse_jakarta(value: str) -> datetime:
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=JAKARTA)


def _shift(value: str | None, delta: timedelta) -> str | None:
    return None if value is None else (_parse_jakarta(value) - delta).strftime(TIME_FORMAT)


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def status_code_for(transaction_status: str, fraud_status: str | None, source: str = "status") -> str:
    """Midtrans' ``status_code`` for a transaction state, as ``source`` sends it.

    ``source`` is ``"notification"``, ``"status"`` (GET status) or ``"action"``
    (the answer of cancel / expire / approve / deny / capture / refund).
    """
    if source not in _CODES:
        raise ValueError(f"source must be one of {STATUS_SOURCES}, not {source!r}")
    if transaction_status == "capture":
        return "201" if fraud_status == "challenge" else "200"
    return _CODES[source].get(transaction_status, "200")


def format_amount(value: Any) -> str:
    """A gross amount as Midtrans writes it: a string with two decimals ("150000.00")."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("gross_amount must be a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("gross_amount must be a number") from exc
    if not amount.is_finite() or amount <= 0:
        raise ValueError("gross_amount must be a positive number")
    return _money(amount)


def initial_fraud_status(payment_type: str, store: str | None = None) -> str | None:
    """The fraud_status a new (pending) transaction carries, as in the docs' samples."""
    if payment_type == CARD or payment_type in FRAUD_ACCEPT:
        return "accept"
    if payment_type == "cstore":
        return "accept" if (store or "alfamart") == "alfamart" else None
    return None


def parse_notification_urls(value: Any, name: str) -> list[str] | None:
    """The URLs of an X-Override-Notification / X-Append-Notification header (None: absent)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string of comma-separated URLs")
    urls = [url.strip() for url in value.split(",") if url.strip()]
    if not urls:
        return None
    if len(urls) > MAX_NOTIFICATION_URLS:
        raise ValueError(f"{name} accepts at most {MAX_NOTIFICATION_URLS} URLs, got {len(urls)}")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{name}: {url!r} is not an http(s) URL")
    return urls


def parse_custom_fields(body: Json) -> dict[str, str]:
    """``custom_field1..3`` of a request body (strings of at most 255 characters)."""
    fields: dict[str, str] = {}
    for key in CUSTOM_FIELDS:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 255:
            raise ValueError(f"{key} must be a string of at most 255 characters")
        fields[key] = value
    return fields


def parse_expiry(raw: Any) -> Json:
    """A Snap ``expiry`` object: ``{start_time?, unit, duration}``."""
    if not isinstance(raw, dict):
        raise ValueError("expiry must be an object")
    unit, duration, start = raw.get("unit"), raw.get("duration"), raw.get("start_time")
    if not isinstance(unit, str) or unit.lower() not in EXPIRY_UNITS:
        raise ValueError("expiry.unit must be day, hour or minute (plural accepted)")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 1:
        raise ValueError("expiry.duration must be an integer >= 1")
    if start is not None and not isinstance(start, str):
        raise ValueError("expiry.start_time must be a string (yyyy-MM-dd HH:mm:ss Z)")
    expiry: Json = {"unit": unit, "duration": duration}
    if start is not None:
        expiry["start_time"] = start
    return expiry


@dataclass
class Transaction:
    """One Midtrans transaction (an order can have several, one after another)."""

    transaction_id: str
    order_id: str
    gross_amount: str
    payment_type: str
    transaction_time: str
    transaction_status: str = "pending"
    fraud_status: str | None = None
    settlement_time: str | None = None
    refund_amount: str | None = None  # cumulative
    store: str | None = None  # cstore only
    refunds: list[Json] = field(default_factory=list)
    refund_answers: dict[str, Json] = field(default_factory=dict)  # refund_key -> first answer
    history: list[Json] = field(default_factory=list)

    def state(self) -> str:
        if self.transaction_status == "capture" and self.fraud_status:
            return f"capture ({self.fraud_status})"
        return self.transaction_status


@dataclass
class Order:
    order_id: str
    gross_amount: str
    snap_token: str | None = None
    transactions: list[Transaction] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)
    expiry: Json | None = None
    override_urls: list[str] | None = None
    append_urls: list[str] = field(default_factory=list)
    snap_requests: int = 0  # Snap token requests for this order_id, refused ones included

    @property
    def latest(self) -> Transaction | None:
        return self.transactions[-1] if self.transactions else None


@dataclass
class NotifyFaults:
    """Faults applied to one notification delivery."""

    drop: bool = False
    delay: float = 0.0
    duplicate: int = 0
    hold: bool = False
    bad_signature: bool = False

    @classmethod
    def parse(cls, raw: Any) -> NotifyFaults:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise _bad_request("faults must be an object")
        unknown = set(raw) - NOTIFY_FAULT_KEYS
        if unknown:
            raise _bad_request(f"unknown notification faults: {sorted(unknown)}")
        faults = cls()
        for key in ("drop", "hold", "bad_signature"):
            if key in raw:
                if not isinstance(raw[key], bool):
                    raise _bad_request(f"faults.{key} must be a boolean")
                setattr(faults, key, raw[key])
        if "delay" in raw:
            delay = raw["delay"]
            if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
                raise _bad_request("faults.delay must be a number of seconds >= 0")
            faults.delay = float(delay)
        if "duplicate" in raw:
            dup = raw["duplicate"]
            if isinstance(dup, bool) or not isinstance(dup, int) or dup < 0:
                raise _bad_request("faults.duplicate must be an integer >= 0")
            faults.duplicate = dup
        return faults

    def names(self) -> list[str]:
        names = [k for k in ("drop", "hold", "bad_signature") if getattr(self, k)]
        if self.delay:
            names.append("delay")
        return names

    def as_json(self) -> Json:
        return {"drop": self.drop, "delay": self.delay, "duplicate": self.duplicate, "hold": self.hold,
                "bad_signature": self.bad_signature}


@dataclass
class StatusFaults:
    """Faults for the status API (GET status, POST expire/cancel)."""

    mode: str = "ok"
    count: int | None = None
    delay: float = 0.0

    def as_json(self) -> Json:
        return {"mode": self.mode, "count": self.count, "delay": self.delay}


@dataclass
class Notification:
    """One scheduled notification; its HTTP attempts are in ``Simulator.deliveries``."""

    id: int
    order_id: str
    transaction_id: str
    transaction_status: str
    payload: Json
    faults: NotifyFaults
    urls: list[str] = field(default_factory=list)
    created: str = field(default_factory=_now_iso)
    state: str = "scheduled"  # scheduled, held, dropped, recorded, delivered, failed, cancelled

    def as_json(self) -> Json:
        return {"id": self.id, "order_id": self.order_id, "transaction_id": self.transaction_id,
                "transaction_status": self.transaction_status, "state": self.state, "urls": list(self.urls),
                "faults": self.faults.as_json(), "created": self.created, "payload": self.payload}


def max_retries(outcome: int | str) -> int:
    """How many retries Midtrans makes after a failed attempt with this outcome."""
    if outcome in (301, 302, 303):
        return 0
    if outcome == 500:
        return 1
    if outcome == 503:
        return 4
    if outcome in (400, 404):
        return 2
    return 5


class Simulator:
    """The ASGI application; its attributes are the simulator's state.

    ``orders``, ``notifications``, ``deliveries`` and ``held`` may be read from
    any thread while holding ``lock``. The control methods (``create_transaction``,
    ``transition``, ``notify``, ``release_held``, ``reset``) may also be called
    from another thread once the app is being served: deliveries are handed to
    the serving event loop. Raises :class:`SimError` where the HTTP control API
    answers an error (``.status``, ``.body``).
    """

    def __init__(self, server_key: str, notify_url: str | None = None, retry_scale: float = 1.0,
                 notify_timeout: float = 15.0) -> None:
        self.server_key = server_key
        self.notify_url = notify_url
        self.retry_scale = retry_scale
        self.notify_timeout = notify_timeout
        self.merchant_id = MERCHANT_ID
        self.lock = threading.RLock()
        self.orders: dict[str, Order] = {}
        self.by_transaction_id: dict[str, Transaction] = {}
        self.snap_tokens: dict[str, str] = {}  # token -> order_id
        self.notifications: list[Notification] = []
        self.deliveries: list[Json] = []
        self.held: list[Notification] = []
        self.status_faults = StatusFaults()
        self.direct_refund_denials = 0  # the next N direct refunds are refused by the bank
        self.refund_answer_losses = 0   # the next N refunds are made, then their answer stalls
        self._ids = itertools.count(1)
        self._refund_ids = itertools.count(1)  # never reset: refund_chargeback_id stays unique
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._auth_token = basic_auth(server_key).split(" ", 1)[1]

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget every order, notification and fault; cancel deliveries in flight."""
        for task in list(self._tasks):
            self._on_loop(task.cancel)
        with self.lock:
            self.orders.clear()
            self.by_transaction_id.clear()
            self.snap_tokens.clear()
            self.notifications.clear()
            self.deliveries.clear()
            self.held.clear()
            self.status_faults = StatusFaults()
            self.direct_refund_denials = 0
            self.refund_answer_losses = 0

    def find(self, key: str) -> tuple[Order, Transaction] | None:
        """The order's latest transaction, or the transaction with this transaction_id."""
        with self.lock:
            order = self.orders.get(key)
            if order is not None and order.latest is not None:
                return order, order.latest
            txn = self.by_transaction_id.get(key)
            if txn is not None:
                return self.orders[txn.order_id], txn
            return None

    def status_body(self, txn: Transaction, message: str = "Success, transaction is found",
                    source: str = "status") -> Json:
        """The body of a transaction as ``source`` (notification, status, action) sends it."""
        with self.lock:
            code = status_code_for(txn.transaction_status, txn.fraud_status, source)
            body: Json = {
                "status_code": code,
                "status_message": message,
                "transaction_id": txn.transaction_id,
                "order_id": txn.order_id,
                "merchant_id": self.merchant_id,
                "gross_amount": txn.gross_amount,
                "currency": "IDR",
                "payment_type": txn.payment_type,
                "transaction_time": txn.transaction_time,
                "transaction_status": txn.transaction_status,
            }
            if txn.fraud_status:
                body["fraud_status"] = txn.fraud_status
            if txn.store:
                body["store"] = txn.store
            if txn.settlement_time:
                body["settlement_time"] = txn.settlement_time
            if txn.refund_amount:
                body["refund_amount"] = txn.refund_amount
            if txn.refunds:
                body["refunds"] = copy.deepcopy(txn.refunds)
            order = self.orders.get(txn.order_id)
            if order is not None:
                body.update(order.custom_fields)
            body["signature_key"] = signature(txn.order_id, code, txn.gross_amount, self.server_key)
            return body

    def snapshot(self) -> Json:
        """Every order with its transactions (status bodies plus history)."""
        with self.lock:
            return {"orders": [
                {"order_id": o.order_id, "gross_amount": o.gross_amount, "snap_token": o.snap_token,
                 "snap_requests": o.snap_requests,
                 "custom_fields": dict(o.custom_fields), "expiry": copy.deepcopy(o.expiry),
                 "notification_urls": {"override": o.override_urls, "append": list(o.append_urls)},
                 "transactions": [{**self.status_body(t), "history": list(t.history)}
                                  for t in o.transactions]}
                for o in self.orders.values()]}

    def _new_transaction(self, order: Order, payment_type: str, action: str, status: str = "pending",
                         fraud_status: str | None = None, store: str | None = None,
                         transaction_id: str | None = None) -> Transaction:
        txn = Transaction(transaction_id=transaction_id or str(uuid.uuid4()), order_id=order.order_id,
                          gross_amount=order.gross_amount, payment_type=payment_type,
                          transaction_time=_now_jakarta(), transaction_status=status,
                          fraud_status=fraud_status or initial_fraud_status(payment_type, store),
                          store=store)
        order.transactions.append(txn)
        self.by_transaction_id[txn.transaction_id] = txn
        self._record(txn, action)
        return txn

    @staticmethod
    def _record(txn: Transaction, action: str) -> None:
        txn.history.append({"action": action, "transaction_status": txn.transaction_status,
                            "fraud_status": txn.fraud_status, "time": _now_jakarta()})

    @staticmethod
    def _configure(order: Order, custom_fields: dict[str, str] | None,
                   notification_urls: NotificationUrls | None) -> None:
        if custom_fields is not None:
            order.custom_fields = dict(custom_fields)
        if notification_urls is not None:
            order.override_urls = list(notification_urls[0]) if notification_urls[0] is not None else None
            order.append_urls = list(notification_urls[1])

    def create_snap(self, order_id: str, gross_amount: str, *, custom_fields: dict[str, str] | None = None,
                    expiry: Json | None = None, notification_urls: NotificationUrls | None = None) -> str:
        """A Snap token for the order; its custom fields, expiry and notification URLs replace the order's."""
        with self.lock:
            order = self.orders.get(order_id)
            if order is not None:
                order.snap_requests += 1
            # Snap keeps one session per order_id: a second token request is
            # refused while the first token's order has no failed transaction
            # (not even one paid for yet), as Midtrans refuses a reused order_id
            if order is not None and (
                    (order.latest is not None and order.latest.transaction_status not in FAILED_FINAL)
                    or (order.latest is None and order.snap_token is not None)):
                raise SimError(400, {"error_messages": [
                    "transaction_details.order_id has already been taken"]})
            token = str(uuid.uuid4())
            if order is None:
                order = self.orders[order_id] = Order(order_id, gross_amount, snap_requests=1)
            order.gross_amount = gross_amount
            order.snap_token = token
            order.expiry = copy.deepcopy(expiry)
            self._configure(order, custom_fields or {}, notification_urls or (None, []))
            self.snap_tokens[token] = order_id
            return token

    def create_transaction(self, order_id: str, gross_amount: str | None, payment_type: str,
                           notify: bool = True, faults: NotifyFaults | None = None,
                           action: str = "create", *, card: str = "pending", store: str | None = None,
                           custom_fields: dict[str, str] | None = None,
                           notification_urls: NotificationUrls | None = None,
                           transaction_id: str | None = None,
                           ) -> tuple[Transaction, Json | None]:
        """A new transaction for the order (a new order unless it exists).

        Non-card transactions start pending; a card one as ``card`` says
        (``CARD_STARTS``). ``store`` (cstore only) defaults to alfamart.
        ``custom_fields`` / ``notification_urls`` replace the order's unless None.
        ``transaction_id`` (Python callers only, e.g. a benchmark preloading
        known ids) replaces the generated UUID.
        Refused (409) while the order's latest transaction is still alive
        (pending, paid, refunded...): only a failed one can be paid again.
        """
        if card not in CARD_STARTS:
            raise _bad_request(f"card must be one of {sorted(CARD_STARTS)}")
        if card != "pending" and payment_type != CARD:
            raise _bad_request(f"card applies to credit_card payments, not {payment_type}")
        if payment_type == "cstore":
            store = store or "alfamart"
            if store not in CSTORES:
                raise _bad_request(f"store must be one of {list(CSTORES)}")
        elif store is not None:
            raise _bad_request(f"store applies to cstore payments, not {payment_type}")
        status, fraud = CARD_STARTS[card] if payment_type == CARD else ("pending", None)
        with self.lock:
            order = self.orders.get(order_id)
            if order is not None and order.latest is not None \
                    and order.latest.transaction_status not in FAILED_FINAL:
                raise _conflict(f"order {order_id} already has a {order.latest.state()} transaction; "
                                "only an expired, cancelled, denied or failed order can be paid again")
            if order is None:
                if gross_amount is None:
                    raise _bad_request("gross_amount is required for a new order")
                order = self.orders[order_id] = Order(order_id, gross_amount)
            elif gross_amount is not None:
                order.gross_amount = gross_amount
            self._configure(order, custom_fields, notification_urls)
            if transaction_id is not None and transaction_id in self.by_transaction_id:
                raise _conflict(f"transaction_id {transaction_id} exists")
            txn = self._new_transaction(order, payment_type, action, status, fraud, store, transaction_id)
            note = self.notify(txn, faults) if notify else None
            return txn, note

    def transition(self, order_id: str, action: str,
                   body: Json | None = None) -> tuple[Transaction, Json | None]:
        """Apply a control action to the order's latest transaction (real transitions only)."""
        body = body or {}
        notify = body.get("notify", True)
        if not isinstance(notify, bool):
            raise _bad_request("notify must be a boolean")
        faults = NotifyFaults.parse(body.get("faults"))
        with self.lock:
            order = self.orders.get(order_id)
            if order is None or order.latest is None:
                raise SimError(404, {"error": f"order {order_id} has no transaction"})
            txn = order.latest
            if action == "pay_again":
                if txn.transaction_status not in FAILED_FINAL:
                    raise _conflict(f"pay_again needs an expired, cancelled, denied or failed transaction, "
                                    f"not {txn.state()}")
                payment_type = body.get("payment_type", txn.payment_type)
                if not isinstance(payment_type, str) or not payment_type:
                    raise _bad_request("payment_type must be a string")
                return self.create_transaction(order_id, None, payment_type, notify, faults, "pay_again")
            self._apply(txn, action, body)
            self._record(txn, action)
            note = self.notify(txn, faults) if notify else None
            return txn, note

    def age(self, key: str, days: Any) -> Transaction:
        """Move a transaction's transaction_time and settlement_time ``days`` into the past."""
        if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
            raise _bad_request("days must be a number >= 0")
        with self.lock:
            found = self.find(key)
            if found is None:
                raise SimError(404, {"error": f"no transaction {key}"})
            txn = found[1]
            delta = timedelta(days=days)
            txn.transaction_time = _shift(txn.transaction_time, delta) or txn.transaction_time
            txn.settlement_time = _shift(txn.settlement_time, delta)
            return txn

    def _apply(self, txn: Transaction, action: str, body: Json) -> None:
        status, fraud = txn.transaction_status, txn.fraud_status
        challenged = status == "capture" and fraud == "challenge"

        def illegal(allowed: str) -> SimError:
            return _conflict(f"{action} is not a Midtrans transition from {txn.state()} (needs {allowed})")

        if action == "settle":
            if not (status == "pending" or (status == "capture" and fraud in ("accept", None))):
                raise illegal("pending or capture (accept)")
            txn.transaction_status = "settlement"
            txn.settlement_time = _now_jakarta()
        elif action == "capture":
            if txn.payment_type != CARD:
                raise _conflict(f"capture only happens to credit_card payments, not {txn.payment_type}")
            if status not in ("pending", "authorize"):
                raise illegal("pending or authorize")
            verdict = body.get("fraud_status", "accept")
            if verdict not in ("accept", "challenge", "deny"):
                raise _bad_request("fraud_status must be accept, challenge or deny")
            txn.transaction_status = "deny" if verdict == "deny" else "capture"
            txn.fraud_status = verdict
        elif action == "accept_challenge":
            if not challenged:
                raise illegal("capture (challenge)")
            txn.fraud_status = "accept"
        elif action == "deny":
            if not (status == "pending" or challenged):
                raise illegal("pending or capture (challenge)")
            txn.transaction_status = "deny"
            if challenged:
                txn.fraud_status = "deny"
        elif action == "cancel":
            if status not in ("pending", "authorize", "capture"):
                raise illegal("pending, authorize or capture")
            txn.transaction_status = "cancel"
        elif action in ("expire", "fail"):
            if not (status == "pending" or (action == "expire" and status == "authorize")):
                raise illegal("pending" if action == "fail" else "pending or authorize")
            txn.transaction_status = "expire" if action == "expire" else "failure"
        elif action in ("refund", "partial_refund"):
            if status not in ("settlement", "capture", "partial_refund") or challenged:
                raise illegal("settlement, capture (accept) or partial_refund")
            self._control_refund(txn, action, body)
        elif action == "chargeback":
            if status != "settlement":
                raise illegal("settlement")
            txn.transaction_status = "chargeback"
        elif action == "reverse":
            if txn.payment_type not in REVERSIBLE:
                raise _conflict(f"only Permata/Mandiri bill/convenience-store payments are reversed "
                                f"({sorted(REVERSIBLE)}), not {txn.payment_type}")
            if status != "settlement":
                raise illegal("settlement")
            txn.transaction_status = "deny"
        else:
            raise SimError(404, {"error": f"unknown action {action!r}; actions: {list(ACTIONS)}"})

    # ---------------------------------------------------------------- refunds

    def _control_refund(self, txn: Transaction, action: str, body: Json) -> None:
        """Control refund: everything left, or part of it (default half) leaving some."""
        try:
            _, refund_key, reason = parse_refund_request({k: body.get(k) for k in ("refund_key", "reason")})
        except ValueError as exc:
            raise _bad_request(str(exc)) from exc
        if refund_key is not None and refund_key in txn.refund_answers:
            raise _conflict(f"refund_key {refund_key!r} was already used for this transaction")
        gross = Decimal(txn.gross_amount)
        refunded = Decimal(txn.refund_amount or "0")
        if action == "refund":
            amount = gross - refunded
        else:
            raw_amount = body.get("amount")
            try:
                amount = Decimal(format_amount(raw_amount)) if raw_amount is not None \
                    else ((gross - refunded) / 2).quantize(Decimal("0.01"))
            except ValueError as exc:
                raise _bad_request(f"amount: {exc}") from exc
            if refunded + amount >= gross:
                raise _conflict("a partial refund must leave part of the amount; use refund for the rest")
        record = self._add_refund(txn, amount, refund_key, reason)
        txn.refund_answers[record["refund_key"]] = self._refund_answer(
            txn, record, "Success, refund request is approved")

    def _add_refund(self, txn: Transaction, amount: Decimal, refund_key: str | None,
                    reason: str | None) -> Json:
        """Refund ``amount`` of the transaction now; returns the new ``refunds`` entry."""
        now = _now_jakarta()
        refunded = Decimal(txn.refund_amount or "0") + amount
        record: Json = {"refund_chargeback_id": next(self._refund_ids), "refund_amount": _money(amount),
                        "created_at": now, "reason": reason or DEFAULT_REFUND_REASON,
                        "refund_key": refund_key or str(uuid.uuid4()), "refund_method": "online",
                        "bank_confirmed_at": now}
        txn.refunds.append(record)
        txn.refund_amount = _money(refunded)
        txn.transaction_status = "refund" if refunded >= Decimal(txn.gross_amount) else "partial_refund"
        return record

    def _refund_answer(self, txn: Transaction, record: Json, message: str) -> Json:
        return {"status_code": "200", "status_message": message, **self._transaction_fields(txn),
                "refund_chargeback_id": record["refund_chargeback_id"],
                "refund_amount": record["refund_amount"], "refund_key": record["refund_key"]}

    @staticmethod
    def _transaction_fields(txn: Transaction) -> Json:
        return {"transaction_id": txn.transaction_id, "order_id": txn.order_id,
                "gross_amount": txn.gross_amount, "currency": "IDR", "payment_type": txn.payment_type,
                "transaction_time": txn.transaction_time, "transaction_status": txn.transaction_status}

    def refund(self, key: str, body: Json, direct: bool = False) -> tuple[int, Json]:
        """The Refund API (``direct``: the Direct Refund API): HTTP status and answer."""
        try:
            amount, refund_key, reason = parse_refund_request(body)
        except ValueError as exc:
            raise _validation([str(exc)]) from exc
        with self.lock:
            found = self.find(key)
            if found is None:
                return 404, _missing()
            txn = found[1]
            if refund_key is not None and refund_key in txn.refund_answers:
                return 200, copy.deepcopy(txn.refund_answers[refund_key])  # a retry: nothing more
            allowed = DIRECT_REFUNDABLE if direct else REFUNDABLE
            if txn.payment_type not in allowed:
                api = "the Direct Refund API" if direct else "the API"
                return 200, _refusal(f"Payment type {txn.payment_type} cannot be refunded through {api}")
            if txn.transaction_status not in ("settlement", "partial_refund"):
                return 200, _refusal(CANNOT_MODIFY)
            window = REFUND_WINDOW_DAYS.get(txn.payment_type)
            if window is not None and txn.settlement_time is not None \
                    and datetime.now(JAKARTA) - _parse_jakarta(txn.settlement_time) > timedelta(days=window):
                return 200, _refusal(f"Refund is rejected: the refund window ({window} days after settlement "
                                     f"for {txn.payment_type}) has passed")
            left = Decimal(txn.gross_amount) - Decimal(txn.refund_amount or "0")
            if amount is None:
                amount = left
            if amount <= 0 or amount > left:
                return 200, {"status_code": "414",
                             "status_message": "Refund request is rejected due to invalid amount"}
            if direct and self.direct_refund_denials > 0:
                self.direct_refund_denials -= 1
                self._record(txn, "api_direct_refund_denied")
                return 200, {"status_code": "202", "status_message": "Refund denied by the bank",
                             **self._transaction_fields(txn), "refund_amount": "0.00",
                             "refund_key": refund_key or str(uuid.uuid4())}
            record = self._add_refund(txn, amount, refund_key, reason)
            self._record(txn, "api_direct_refund" if direct else "api_refund")
            message = "Success, refund request is approved" + (" by the bank" if direct else "")
            answer = self._refund_answer(txn, record, message)
            txn.refund_answers[record["refund_key"]] = answer
            self.notify(txn)
            return 200, copy.deepcopy(answer)

    # --------------------------------------------------- merchant API actions

    def cancel_or_expire(self, key: str, verb: str) -> tuple[int, Json]:
        """POST /v2/{id}/cancel or /expire (without the status-API faults)."""
        with self.lock:
            found = self.find(key)
            if found is None:
                return 404, _missing()
            txn = found[1]
            status = txn.transaction_status
            allowed = status == "pending" or (verb == "cancel" and status in ("authorize", "capture"))
            if not allowed:
                return 200, _refusal(CANNOT_MODIFY)
            txn.transaction_status = "expire" if verb == "expire" else "cancel"
            self._record(txn, f"api_{verb}")
            self.notify(txn)
            message = "Success, transaction has expired" if verb == "expire" \
                else "Success, transaction is canceled"
            return 200, self.status_body(txn, message, "action")

    def review(self, key: str, verb: str) -> tuple[int, Json]:
        """POST /v2/{id}/approve or /deny: decide a challenged card capture."""
        with self.lock:
            found = self.find(key)
            if found is None:
                return 404, _missing()
            txn = found[1]
            if not (txn.transaction_status == "capture" and txn.fraud_status == "challenge"):
                return 200, _refusal(CANNOT_MODIFY)
            if verb == "approve":
                txn.fraud_status = "accept"
                message = "Success, transaction is approved"
            else:
                txn.transaction_status = txn.fraud_status = "deny"
                message = "Success, transaction is denied"
            self._record(txn, f"api_{verb}")
            self.notify(txn)
            return 200, self.status_body(txn, message, "action")

    def capture(self, body: Json) -> tuple[int, Json]:
        """POST /v2/capture: capture an authorised card transaction (by transaction_id)."""
        transaction_id = body.get("transaction_id")
        if not isinstance(transaction_id, str) or not transaction_id:
            raise _validation(["transaction_id is required"])
        raw_amount = body.get("gross_amount")
        amount: Decimal | None = None
        if raw_amount is not None:
            amount = _number(raw_amount)
            if amount is None or amount <= 0 or amount != amount.to_integral_value():
                raise _validation(["gross_amount must be a positive integer (decimal values are invalid)"])
        with self.lock:
            txn = self.by_transaction_id.get(transaction_id)
            if txn is None:
                return 404, _missing()
            if txn.transaction_status != "authorize":
                return 200, _refusal(CANNOT_MODIFY)
            if amount is not None:
                if amount > Decimal(txn.gross_amount):
                    raise _validation([f"gross_amount must not exceed the authorized amount "
                                       f"{txn.gross_amount}"])
                txn.gross_amount = _money(amount)
            txn.transaction_status, txn.fraud_status = "capture", "accept"
            self._record(txn, "api_capture")
            self.notify(txn)
            message = "Success, Credit Card capture transaction is successful"
            return 200, self.status_body(txn, message, "action")

    # ---------------------------------------------------------- notifications

    def notification_urls(self, order_id: str) -> list[str]:
        """Where the order's notifications go: its override URLs, else notify_url plus its append URLs."""
        with self.lock:
            order = self.orders.get(order_id)
            if order is not None and order.override_urls is not None:
                return list(order.override_urls)
            urls = [self.notify_url] if self.notify_url else []
            if order is not None:
                urls += [url for url in order.append_urls if url not in urls]
            return urls

    def notify(self, txn: Transaction, faults: NotifyFaults | None = None) -> Json:
        """Schedule a notification of the transaction's current state; returns its body."""
        faults = faults or NotifyFaults()
        with self.lock:
            payload = self.status_body(txn, "midtrans payment notification", "notification")
            if faults.bad_signature:
                payload["signature_key"] = signature(txn.order_id, payload["status_code"],
                                                     txn.gross_amount, self.server_key + "-wrong")
            note = Notification(next(self._ids), txn.order_id, txn.transaction_id, txn.transaction_status,
                                payload, faults, self.notification_urls(txn.order_id))
            self.notifications.append(note)
            if faults.drop:
                note.state = "dropped"
                self._attempt(note, 0, 0, "dropped", None)
            elif faults.hold:
                note.state = "held"
                self.held.append(note)
            else:
                self._dispatch(note)
        return payload

    def release_held(self) -> int:
        """Deliver every held notification, most recently held first; returns how many."""
        with self.lock:
            released, self.held = list(reversed(self.held)), []
            previous: asyncio.Event | None = None
            for note in released:  # each waits for the previous one's first attempt: a fixed order
                note.state = "scheduled"
                sent = asyncio.Event()
                self._dispatch(note, after=previous, first_sent=sent)
                previous = sent
            return len(released)

    def _dispatch(self, note: Notification, after: asyncio.Event | None = None,
                  first_sent: asyncio.Event | None = None) -> None:
        if not note.urls and not note.faults.delay:
            note.state = "recorded"  # nothing to send and nothing to wait for: no task needed
            if first_sent is not None:
                first_sent.set()
            return
        self._spawn(self._deliver(note, after, first_sent))

    def _on_loop(self, func: Callable[[], Any]) -> None:
        """Run ``func`` now when on the serving loop, else hand it to that loop (thread-safe)."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and (self._loop is None or running is self._loop):
            func()
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(func)
        else:
            raise RuntimeError("the simulator is not being served: no event loop to deliver on")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        def start() -> None:
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        try:
            self._on_loop(start)
        except RuntimeError:
            coro.close()
            raise

    def _attempt(self, note: Notification, copy_: int, attempt: int, outcome: int | str,
                 next_retry_in: float | None, url: str | None = None, final_url: str | None = None,
                 redirects: int = 0) -> None:
        fault = note.faults.names()
        if copy_:
            fault.append("duplicate")
        if note.faults.hold and "hold" not in fault:
            fault.append("hold")
        with self.lock:
            self.deliveries.append({
                "notification_id": note.id, "order_id": note.order_id,
                "transaction_id": note.transaction_id, "transaction_status": note.transaction_status,
                "signature_key": note.payload["signature_key"], "url": url, "final_url": final_url,
                "redirects": redirects, "copy": copy_, "attempt": attempt,
                "http_status": outcome, "fault": "+".join(fault) or None,
                "next_retry_in": next_retry_in, "time": _now_iso()})

    async def _deliver(self, note: Notification, after: asyncio.Event | None = None,
                       first_sent: asyncio.Event | None = None) -> None:
        """Deliver one notification (to every URL, all its copies, each with its own retries).

        ``after``: wait for it first; ``first_sent``: set once the first attempt is answered.
        """
        try:
            if after is not None:
                await after.wait()
            if note.faults.delay:
                await asyncio.sleep(note.faults.delay)
            if not note.urls:
                note.state = "recorded"
                return
            results = await asyncio.gather(*(
                self._deliver_copy(note, url, copy_, first_sent if (i, copy_) == (0, 0) else None)
                for i, url in enumerate(note.urls) for copy_ in range(1 + note.faults.duplicate)))
            note.state = "delivered" if any(results) else "failed"
        except asyncio.CancelledError:
            note.state = "cancelled"
            raise
        finally:
            if first_sent is not None:
                first_sent.set()

    async def _deliver_copy(self, note: Notification, url: str, copy_: int,
                            first_sent: asyncio.Event | None) -> bool:
        content = json.dumps(note.payload).encode()
        attempt = 0
        while True:
            attempt += 1
            outcome, final_url, redirects = await self._post(url, content)
            ok = isinstance(outcome, int) and 200 <= outcome < 300
            done_retries = attempt - 1
            delay = None if ok or done_retries >= max_retries(outcome) \
                else RETRY_SCHEDULE[done_retries] * self.retry_scale
            self._attempt(note, copy_, attempt, outcome, delay, url, final_url, redirects)
            if first_sent is not None:
                first_sent.set()
            if delay is None:
                return ok
            await asyncio.sleep(delay)

    async def _post(self, url: str, content: bytes) -> tuple[int | str, str, int]:
        """One delivery attempt: POST, following 307/308 (same body) up to MAX_REDIRECTS times.

        Returns the outcome (an HTTP status, "timeout", "error" or
        "too_many_redirects"), the URL that gave it and the redirects followed.
        """
        client = self._http()
        headers = {"content-type": "application/json", "accept": "application/json",
                   "user-agent": "Midtrans-Simulator/1.0"}
        current, redirects = url, 0
        while True:
            try:
                response = await client.post(current, content=content, headers=headers)
            except httpx.TimeoutException:
                return "timeout", current, redirects
            except Exception:
                return "error", current, redirects
            location = response.headers.get("location")
            if response.status_code not in (307, 308) or not location:
                return response.status_code, current, redirects
            if redirects >= MAX_REDIRECTS:
                return "too_many_redirects", current, redirects
            redirects += 1
            current = urljoin(current, location)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.notify_timeout, follow_redirects=False)
        return self._client

    # -------------------------------------------------------------- lifecycle

    def _stop_event(self) -> asyncio.Event:
        if self._stopping is None:
            self._stopping = asyncio.Event()
        return self._stopping

    def begin_shutdown(self) -> None:
        """Wake stalled requests (timeout faults) so the server can stop at once."""
        self._stop_event().set()

    async def aclose(self) -> None:
        """Cancel background deliveries and close the HTTP client."""
        self.begin_shutdown()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._loop = asyncio.get_running_loop()
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            status, payload, headers = await self._route(scope, body, receive)
        except SimError as exc:
            status, payload, headers = exc.status, exc.body, []
        except _Disconnected:
            return
        if isinstance(payload, str):
            await _respond(send, status, payload.encode(), "text/html; charset=utf-8", headers)
        else:
            await _respond(send, status, json.dumps(payload).encode(), "application/json", headers)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._stopping = asyncio.Event()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope: Scope, raw: bytes, receive: Receive) -> tuple[int, Json | str, Headers]:
        method: str = scope["method"]
        raw_path: bytes | None = scope.get("raw_path")
        path = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else scope["path"]
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        if parts[:1] == ["_sim"]:
            return (*self._control(method, parts[1:], raw), [])
        if parts[:3] == ["snap", "v2", "vtweb"] and len(parts) in (4, 5):
            return (*self._snap_page(method, parts[3:], raw, headers), [])
        if parts == ["snap", "v1", "transactions"] or parts[:1] == ["v2"]:
            if not self._authorized(headers.get("authorization", "")):
                message = "Transaction cannot be authorized with the current client/server key."
                body: Json = {"status_code": "401", "status_message": message, "id": str(uuid.uuid4())}
                if parts[0] == "snap":
                    body["error_messages"] = ["Access denied due to unauthorized transaction, "
                                              "please check client or server key"]
                return 401, body, [("www-authenticate", 'Basic realm="Midtrans"')]
            return await self._merchant(method, parts, raw, headers, scope, receive)
        return 404, {"status_code": "404", "status_message": "The requested resource is not found"}, []

    async def _merchant(self, method: str, parts: list[str], raw: bytes, headers: dict[str, str],
                        scope: Scope, receive: Receive) -> tuple[int, Json, Headers]:
        def post_only() -> None:
            if method != "POST":
                raise _method_not_allowed()

        if parts[0] == "snap":
            post_only()
            return (*self._snap_create(raw, headers, scope), [])
        if parts == ["v2", "charge"]:
            post_only()
            return (*self._charge(raw, headers), [])
        if parts == ["v2", "capture"]:
            post_only()
            return (*self.capture(_json_body(raw)), [])
        if len(parts) == 3 and parts[2] in ("status", "expire", "cancel"):
            if (parts[2] == "status") != (method == "GET") or method not in ("GET", "POST"):
                raise _method_not_allowed()
            return await self._merchant_status(parts[1], parts[2], receive)
        if len(parts) == 3 and parts[2] in ("approve", "deny"):
            post_only()
            return (*self.review(parts[1], parts[2]), [])
        if (len(parts) == 3 and parts[2] == "refund") or (len(parts) == 5 and parts[2:] == [
                "refund", "online", "direct"]):
            post_only()
            status, answer = self.refund(parts[1], _json_body(raw), direct=len(parts) == 5)
            if self._take_refund_loss():
                await self._stall(STALL_SECONDS, receive)   # refunded; the answer never arrives
            return status, answer, []
        return 404, {"status_code": "404", "status_message": "The requested resource is not found"}, []

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.strip().partition(" ")
        return scheme.lower() == "basic" and hmac.compare_digest(token.strip().encode(),
                                                                  self._auth_token.encode())

    # ---------------------------------------------------------- merchant API

    def _snap_create(self, raw: bytes, headers: dict[str, str], scope: Scope) -> tuple[int, Json]:
        body = _json_body(raw, snap=True)
        order_id, amount = _transaction_details(body, snap=True)
        try:
            custom = parse_custom_fields(body)
            expiry = parse_expiry(body["expiry"]) if body.get("expiry") is not None else None
            urls = _header_urls(headers)
        except ValueError as exc:
            raise _validation([str(exc)], snap=True) from exc
        token = self.create_snap(order_id, amount, custom_fields=custom, expiry=expiry,
                                 notification_urls=urls)
        scheme = scope.get("scheme", "http")
        host = headers.get("host") or "{}:{}".format(*(scope.get("server") or ("127.0.0.1", 80)))
        return 201, {"token": token, "redirect_url": f"{scheme}://{host}/snap/v2/vtweb/{token}"}

    def _charge(self, raw: bytes, headers: dict[str, str]) -> tuple[int, Json]:
        body = _json_body(raw)
        payment_type = body.get("payment_type")
        if not isinstance(payment_type, str) or not payment_type:
            raise _validation(["payment_type is required"])
        order_id, amount = _transaction_details(body)
        try:
            custom = parse_custom_fields(body)
            urls = _header_urls(headers)
            store = _charge_store(body) if payment_type == "cstore" else None
        except ValueError as exc:
            raise _validation([str(exc)]) from exc
        card = "pending"
        if payment_type == CARD:
            details = body.get("credit_card")
            token = details.get("token_id") if isinstance(details, dict) else None
            if not isinstance(token, str) or not token.strip():
                return 200, {"status_code": "411",
                             "status_message": "Token id is missing, invalid, or timed out"}
            assert isinstance(details, dict)
            if token.startswith("deny"):
                card = "deny"
            elif details.get("type") == "authorize":
                card = "authorize"
            else:
                card = "challenge" if token.startswith("challenge") else "capture"
        try:
            txn, _ = self.create_transaction(order_id, amount, payment_type, card=card, store=store,
                                             custom_fields=custom, notification_urls=urls)
        except SimError as exc:
            if exc.status != 409:
                raise
            return 200, {"status_code": "406", "id": str(uuid.uuid4()), "status_message":
                         "The request could not be completed due to a conflict with the current state of "
                         "the target resource, please try again"}
        if payment_type != CARD:
            label = payment_type.replace("_", " ").title()
            answer, http = self.status_body(txn, f"Success, {label} transaction is created"), 201
        else:
            message = {"deny": "Denied by FDS", "challenge": "Challenge by FDS"}.get(
                card, "Success, Credit Card transaction is successful")
            answer, http = self.status_body(txn, message), 200
        for key in CUSTOM_FIELDS:  # the docs' charge answer does not echo them
            answer.pop(key, None)
        return http, answer

    async def _merchant_status(self, key: str, verb: str, receive: Receive) -> tuple[int, Json, Headers]:
        mode, delay = self._take_status_fault()
        if delay:
            await self._stall(delay, receive)
        if mode == "timeout":
            await self._stall(STALL_SECONDS, receive)
        if mode == "500":
            return 500, {"status_code": "500", "status_message":
                         "Sorry, we encountered internal server error. We will fix this soon."}, []
        if mode == "503":
            return 503, {"status_code": "503", "status_message":
                         "Midtrans is temporarily unavailable, please try again later."}, []
        if mode == "429":
            return 429, {"status_code": "429", "status_message":
                         "Too many requests, please slow down and try again later."}, [("retry-after", "1")]
        found = self.find(key)
        if found is None:
            return (200 if mode == "not_found_in_body" else 404), _missing(), []
        if verb == "status":
            return 200, self.status_body(found[1]), []
        return (*self.cancel_or_expire(key, verb), [])

    def _take_refund_loss(self) -> bool:
        with self.lock:
            if self.refund_answer_losses <= 0:
                return False
            self.refund_answer_losses -= 1
            return True

    def _take_status_fault(self) -> tuple[str, float]:
        with self.lock:
            faults = self.status_faults
            if faults.mode == "ok" and not faults.delay:
                return "ok", 0.0
            if faults.count is not None:
                if faults.count <= 0:
                    self.status_faults = StatusFaults()
                    return "ok", 0.0
                faults.count -= 1
                if faults.count == 0:
                    self.status_faults = StatusFaults()
            return faults.mode, faults.delay

    async def _stall(self, seconds: float, receive: Receive) -> None:
        """Sleep, but stop early when the client hangs up or the server shuts down."""
        sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
        hangup = asyncio.ensure_future(_wait_disconnect(receive))
        stop = asyncio.ensure_future(self._stop_event().wait())
        try:
            done, _ = await asyncio.wait({sleeper, hangup, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, hangup, stop):
                task.cancel()
        if hangup in done:
            raise _Disconnected()
        if stop in done and sleeper not in done:
            raise SimError(503, {"status_code": "503", "status_message": "Simulator is shutting down"})

    # ------------------------------------------------------- customer page

    def _snap_page(self, method: str, parts: list[str], raw: bytes,
                   headers: dict[str, str]) -> tuple[int, str]:
        token = parts[0]
        order_id = self.snap_tokens.get(token)
        if order_id is None:
            return 404, _page("Payment not found", "<p>This payment link is unknown or has been reset.</p>")
        order = self.orders[order_id]
        title = f"Order {html.escape(order_id)}: IDR {html.escape(order.gross_amount)}"
        if method == "POST":
            form = parse_qs(raw.decode("utf-8", "replace"))
            choice = (parts[1] if len(parts) == 5 else None) or form.get("choice", [""])[0]
            payment_type = form.get("payment_type", ["bank_transfer"])[0] or "bank_transfer"
            if choice not in ("pay", "pending"):
                return 400, _page(title, "<p>Unknown choice.</p>")
            try:
                txn, _ = self.create_transaction(order_id, None, payment_type)
                if choice == "pay":
                    self.transition(order_id, "capture" if payment_type == CARD else "settle")
            except SimError as exc:
                return 409, _page(title, f"<p>{html.escape(str(exc.body.get('error', exc.body)))}</p>")
            return 200, _page(title, f"<p>Transaction {html.escape(txn.transaction_id)} is now "
                                     f"<b>{html.escape(txn.state())}</b>.</p>")
        latest = order.latest
        state = f"<p>Latest transaction: <b>{html.escape(latest.state())}</b></p>" if latest else ""
        form = (f'<form method="post" action="/snap/v2/vtweb/{html.escape(token)}">'
                '<select name="payment_type"><option>bank_transfer</option><option>gopay</option>'
                '<option>qris</option><option>credit_card</option><option>echannel</option>'
                '<option>cstore</option></select> '
                '<button name="choice" value="pay">Pay now</button> '
                '<button name="choice" value="pending">Leave it pending</button></form>')
        return 200, _page(title, state + form)

    # ----------------------------------------------------------- control API

    def _control(self, method: str, parts: list[str], raw: bytes) -> tuple[int, Json]:
        if parts == ["health"] and method == "GET":
            return 200, {"status": "ok"}
        if parts == ["transactions"]:
            if method == "GET":
                return 200, self.snapshot()
            if method == "POST":
                return self._control_create(_json_body(raw))
        if len(parts) == 3 and parts[0] == "transactions" and parts[2] == "age" and method == "POST":
            txn = self.age(parts[1], _json_body(raw).get("days"))
            return 200, {"transaction": self.status_body(txn)}
        if len(parts) == 3 and parts[0] == "transactions" and method == "POST":
            txn, note = self.transition(parts[1], parts[2], _json_body(raw))
            return 200, {"transaction": self.status_body(txn), "notification": note}
        if len(parts) == 2 and parts[0] == "notify" and method == "POST":
            body = _json_body(raw)
            found = self.find(parts[1])
            if found is None:
                raise SimError(404, {"error": f"order {parts[1]} has no transaction"})
            return 200, {"notification": self.notify(found[1], NotifyFaults.parse(body.get("faults")))}
        if parts == ["release-held"] and method == "POST":
            return 200, {"released": self.release_held()}
        if parts == ["faults"]:
            if method == "POST":
                self._set_faults(_json_body(raw))
            if method in ("GET", "POST"):
                with self.lock:
                    return 200, {"status_api": self.status_faults.as_json(),
                                 "direct_refund": {"deny_by_bank": self.direct_refund_denials},
                                 "refund": {"lose_answer": self.refund_answer_losses}}
        if parts == ["reset"] and method == "POST":
            self.reset()
            return 200, {"reset": True}
        if parts == ["deliveries"] and method == "GET":
            with self.lock:
                return 200, {"deliveries": list(self.deliveries)}
        if parts == ["notifications"] and method == "GET":
            with self.lock:
                return 200, {"notifications": [n.as_json() for n in self.notifications],
                             "held": [n.id for n in self.held]}
        raise SimError(404, {"error": f"no control endpoint {method} /_sim/{'/'.join(parts)}"})

    def _control_create(self, body: Json) -> tuple[int, Json]:
        order_id = body.get("order_id")
        if not isinstance(order_id, str) or not order_id:
            raise _bad_request("order_id (a non-empty string) is required")
        amount: str | None = None
        if body.get("gross_amount") is not None:
            try:
                amount = format_amount(body["gross_amount"])
            except ValueError as exc:
                raise _bad_request(str(exc)) from exc
        payment_type = body.get("payment_type", "bank_transfer")
        if not isinstance(payment_type, str) or not payment_type:
            raise _bad_request("payment_type must be a non-empty string")
        notify = body.get("notify", True)
        if not isinstance(notify, bool):
            raise _bad_request("notify must be a boolean")
        card, store = body.get("card", "pending"), body.get("store")
        if not isinstance(card, str) or (store is not None and not isinstance(store, str)):
            raise _bad_request("card and store must be strings")
        try:
            custom = parse_custom_fields(body) if any(k in body for k in CUSTOM_FIELDS) else None
            override = parse_notification_urls(body.get("override_notification"), "override_notification")
            append = parse_notification_urls(body.get("append_notification"), "append_notification")
        except ValueError as exc:
            raise _bad_request(str(exc)) from exc
        urls = (override, append or []) if "override_notification" in body or "append_notification" in body \
            else None
        faults = NotifyFaults.parse(body.get("faults"))
        txn, note = self.create_transaction(order_id, amount, payment_type, notify, faults, card=card,
                                            store=store, custom_fields=custom, notification_urls=urls)
        return 201, {"transaction": self.status_body(txn), "notification": note}

    def _set_faults(self, body: Json) -> None:
        raw, direct, refund = body.get("status_api"), body.get("direct_refund"), body.get("refund")
        if not isinstance(raw, dict) and not isinstance(direct, dict) and not isinstance(refund, dict):
            raise _bad_request('expected {"status_api": {"mode": ..., "count": ..., "delay": ...}}, '
                               '{"direct_refund": {"deny_by_bank": N}} and/or {"refund": {"lose_answer": N}}')
        faults: StatusFaults | None = None
        if isinstance(raw, dict):
            mode = raw.get("mode", "ok")
            count = raw.get("count")
            delay = raw.get("delay", 0)
            if mode not in STATUS_FAULT_MODES:
                raise _bad_request(f"mode must be one of {sorted(STATUS_FAULT_MODES)}")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
                raise _bad_request("count must be an integer >= 0 or null")
            if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
                raise _bad_request("delay must be a number of seconds >= 0")
            faults = StatusFaults(mode, count, float(delay))
        denials: int | None = None
        if isinstance(direct, dict):
            denials = direct.get("deny_by_bank", 0)
            if isinstance(denials, bool) or not isinstance(denials, int) or denials < 0:
                raise _bad_request("direct_refund.deny_by_bank must be an integer >= 0")
        losses: int | None = None
        if isinstance(refund, dict):
            losses = refund.get("lose_answer", 0)
            if isinstance(losses, bool) or not isinstance(losses, int) or losses < 0:
                raise _bad_request("refund.lose_answer must be an integer >= 0")
        with self.lock:
            if faults is not None:
                self.status_faults = faults
            if denials is not None:
                self.direct_refund_denials = denials
            if losses is not None:
                self.refund_answer_losses = losses


class _Disconnected(Exception):
    """The client hung up while the simulator was stalling."""


def _method_not_allowed() -> SimError:
    return SimError(405, {"status_code": "405", "status_message": "HTTP method is not allowed"})


def _missing() -> Json:
    return {"status_code": "404", "status_message": "Transaction doesn't exist.", "id": str(uuid.uuid4())}


def _refusal(message: str) -> Json:
    return {"status_code": "412", "status_message": message}


def _validation(messages: list[str], snap: bool = False) -> SimError:
    if snap:
        return SimError(400, {"error_messages": messages})
    return SimError(400, {"status_code": "400", "status_message": "One or more parameters in the payload "
                          "is invalid.", "validation_messages": messages})


def _number(value: Any) -> Decimal | None:
    """A JSON number (or numeric string) as a finite Decimal, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_refund_request(body: Json) -> tuple[Decimal | None, str | None, str | None]:
    """``(amount, refund_key, reason)`` of a refund request; ValueError when malformed."""
    amount: Decimal | None = None
    if body.get("amount") is not None:
        amount = _number(body["amount"])
        if amount is None:
            raise ValueError("amount must be a number")
    refund_key = body.get("refund_key")
    if refund_key is not None and (not isinstance(refund_key, str) or not REFUND_KEY.fullmatch(refund_key)):
        raise ValueError("refund_key may only contain letters, digits, dash (-) and underscore (_)")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
        raise ValueError("reason must be a string of at most 255 characters")
    return amount, refund_key, reason


def _header_urls(headers: dict[str, str]) -> NotificationUrls:
    override = parse_notification_urls(headers.get("x-override-notification"), "X-Override-Notification")
    append = parse_notification_urls(headers.get("x-append-notification"), "X-Append-Notification")
    return override, append or []


def _charge_store(body: Json) -> str:
    details = body.get("cstore")
    store = details.get("store", "alfamart") if isinstance(details, dict) else "alfamart"
    if not isinstance(store, str) or store.lower() not in CSTORES:
        raise ValueError(f"cstore.store must be one of {list(CSTORES)}")
    return store.lower()


def _json_body(raw: bytes, snap: bool = False) -> Json:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _validation([f"request body is not valid JSON: {exc}"], snap) from exc
    if not isinstance(body, dict):
        raise _validation(["request body must be a JSON object"], snap)
    return body


def _transaction_details(body: Json, snap: bool = False) -> tuple[str, str]:
    details = body.get("transaction_details")
    if not isinstance(details, dict):
        raise _validation(["transaction_details is required"], snap)
    order_id = details.get("order_id")
    if not isinstance(order_id, str) or not order_id:
        raise _validation(["transaction_details.order_id is required"], snap)
    if details.get("gross_amount") is None:
        raise _validation(["transaction_details.gross_amount is required"], snap)
    try:
        amount = format_amount(details["gross_amount"])
    except ValueError as exc:
        raise _validation([f"transaction_details.{exc}"], snap) from exc
    return order_id, amount


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _respond(send: Send, status: int, content: bytes, content_type: str,
                   extra: Headers) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(content)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _page(title: str, content: str) -> str:
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
            f"<body><h1>Midtrans simulator</h1><h2>{title}</h2>{content}</body></html>")


def create_app(server_key: str, notify_url: str | None = None, retry_scale: float = 1.0,
               notify_timeout: float = 15.0) -> Simulator:
    """A fresh simulator for one merchant (``server_key``), notifying ``notify_url``."""
    return Simulator(server_key, notify_url, retry_scale, notify_timeout)


class _Server(uvicorn.Server):
    """uvicorn, but stalled requests are woken before it waits for them at shutdown."""

    def __init__(self, config: uvicorn.Config, app: Simulator) -> None:
        super().__init__(config)
        self.sim = app

    async def shutdown(self, sockets: Any = None) -> None:
        self.sim.begin_shutdown()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop on SIGTERM/SIGINT and return normally (uvicorn would re-raise the signal)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def run(host: str, port: int, server_key: str, notify_url: str | None, retry_scale: float) -> None:
    """Serve a simulator with uvicorn until SIGTERM or SIGINT (blocking), then return normally.

    On the signal, stalled requests are answered 503, deliveries in flight are
    cancelled and the function returns (exit code 0 for a CLI around it).
    """
    app = create_app(server_key, notify_url, retry_scale)
    config = uvicorn.Config(app, host=host, port=port, lifespan="on", log_level="info",
                            timeout_graceful_shutdown=5)
    _Server(config, app).run()


__all__ = ["ACTIONS", "DIRECT_REFUNDABLE", "REFUNDABLE", "REFUND_WINDOW_DAYS", "RETRY_SCHEDULE",
           "STATUS_SOURCES", "Simulator", "create_app", "format_amount", "initial_fraud_status",
           "max_retries", "run", "status_code_for"]
