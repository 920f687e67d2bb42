"""A Midtrans simulator: one merchant's slice of Midtrans, in memory.

Midtrans cannot be reached from tests, demos or a developer's laptop, so this
module plays its part. It is a raw ASGI application (served by uvicorn) with
three faces:

* **Merchant API** (Basic auth ``base64(server_key + ":")``, Midtrans shapes):
  ``POST /snap/v1/transactions``, ``POST /v2/charge``,
  ``GET /v2/{order_id}/status``, ``POST /v2/{order_id}/expire`` and
  ``POST /v2/{order_id}/cancel``. ``{order_id}`` may also be a transaction_id.
* **Control API** (``/_sim/...``, no auth, JSON): create transactions, move
  them through *real* Midtrans transitions (``settle``, ``capture``,
  ``reverse``, ``pay_again`` ...), re-send notifications, inject faults into
  the status API and into notification delivery, inspect every transaction,
  notification and delivery attempt, reset everything.
* **HTTP notifications** to ``notify_url``: the Midtrans notification body
  (status fields plus ``signature_key``), sent from background tasks with
  Midtrans' retry policy (2 m, 10 m, 30 m, 1.5 h, 3.5 h, scaled by
  ``retry_scale``; HTTP 500 gets 1 retry, 503 gets 4, 400/404 get 2, anything
  else that is not 2xx gets 5) and per-notification faults: ``drop``,
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
import hmac
import html
import itertools
import json
import signal
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import uvicorn

from runner.signature import basic_auth, signature

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Json = dict[str, Any]
Headers = list[tuple[str, str]]

#: Midtrans' notification retry delays in seconds (before retry 1, 2, ...).
RETRY_SCHEDULE: tuple[float, ...] = (120, 600, 1800, 5400, 12600)
#: How long a "timeout" status-API fault stalls: longer than any sane client timeout.
STALL_SECONDS = 30.0
MERCHANT_ID = "G000000000"
JAKARTA = timezone(timedelta(hours=7), "WIB")

FAILED_FINAL = frozenset({"expire", "cancel", "deny", "failure"})
CARD = "credit_card"
#: Payment types whose settlement can be reversed (Permata VA, Mandiri bill, Indomaret/Alfamart).
REVERSIBLE = frozenset({"bank_transfer", "echannel", "cstore"})
STATUS_FAULT_MODES = frozenset({"ok", "503", "500", "429", "timeout", "not_found_in_body"})
NOTIFY_FAULT_KEYS = frozenset({"drop", "delay", "duplicate", "hold", "bad_signature"})
ACTIONS = ("settle", "capture", "accept_challenge", "deny", "cancel", "expire", "fail", "refund",
           "partial_refund", "chargeback", "reverse", "pay_again")


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
    return datetime.now(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def status_code_for(transaction_status: str, fraud_status: str | None) -> str:
    """Midtrans' ``status_code`` for a transaction state."""
    if transaction_status == "capture":
        return "201" if fraud_status == "challenge" else "200"
    return {
        "pending": "201", "settlement": "200", "authorize": "200", "deny": "202", "cancel": "200",
        "expire": "407", "refund": "200", "partial_refund": "200", "failure": "202",
        "chargeback": "200", "partial_chargeback": "200",
    }.get(transaction_status, "200")


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
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


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
    refund_amount: str | None = None
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
    created: str = field(default_factory=_now_iso)
    state: str = "scheduled"  # scheduled, held, dropped, recorded, delivered, failed, cancelled

    def as_json(self) -> Json:
        return {"id": self.id, "order_id": self.order_id, "transaction_id": self.transaction_id,
                "transaction_status": self.transaction_status, "state": self.state,
                "faults": self.faults.as_json(), "created": self.created, "payload": self.payload}


def max_retries(outcome: int | str) -> int:
    """How many retries Midtrans makes after a failed attempt with this outcome."""
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
        self._ids = itertools.count(1)
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

    def status_body(self, txn: Transaction, message: str = "Success, transaction is found") -> Json:
        """The status API body of a transaction (also the notification body)."""
        code = status_code_for(txn.transaction_status, txn.fraud_status)
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
        if txn.payment_type == CARD and txn.fraud_status:
            body["fraud_status"] = txn.fraud_status
        if txn.settlement_time:
            body["settlement_time"] = txn.settlement_time
        if txn.refund_amount:
            body["refund_amount"] = txn.refund_amount
        body["signature_key"] = signature(txn.order_id, code, txn.gross_amount, self.server_key)
        return body

    def snapshot(self) -> Json:
        """Every order with its transactions (status bodies plus history)."""
        with self.lock:
            return {"orders": [
                {"order_id": o.order_id, "gross_amount": o.gross_amount, "snap_token": o.snap_token,
                 "transactions": [{**self.status_body(t), "history": list(t.history)}
                                  for t in o.transactions]}
                for o in self.orders.values()]}

    def _new_transaction(self, order: Order, payment_type: str, action: str) -> Transaction:
        txn = Transaction(transaction_id=str(uuid.uuid4()), order_id=order.order_id,
                          gross_amount=order.gross_amount, payment_type=payment_type,
                          transaction_time=_now_jakarta(),
                          fraud_status="accept" if payment_type == CARD else None)
        order.transactions.append(txn)
        self.by_transaction_id[txn.transaction_id] = txn
        self._record(txn, action)
        return txn

    @staticmethod
    def _record(txn: Transaction, action: str) -> None:
        txn.history.append({"action": action, "transaction_status": txn.transaction_status,
                            "fraud_status": txn.fraud_status, "time": _now_jakarta()})

    def create_snap(self, order_id: str, gross_amount: str) -> str:
        with self.lock:
            order = self.orders.get(order_id)
            if order is not None and order.latest is not None \
                    and order.latest.transaction_status not in FAILED_FINAL:
                raise SimError(400, {"error_messages": [
                    "transaction_details.order_id has already been taken"]})
            token = str(uuid.uuid4())
            if order is None:
                order = self.orders[order_id] = Order(order_id, gross_amount)
            order.gross_amount = gross_amount
            order.snap_token = token
            self.snap_tokens[token] = order_id
            return token

    def create_transaction(self, order_id: str, gross_amount: str | None, payment_type: str,
                           notify: bool = True, faults: NotifyFaults | None = None,
                           action: str = "create") -> tuple[Transaction, Json | None]:
        """A new pending transaction for the order (a new order unless it exists).

        Refused (409) while the order's latest transaction is still alive
        (pending, paid, refunded...): only a failed one can be paid again.
        """
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
            txn = self._new_transaction(order, payment_type, action)
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
            if status != "pending":
                raise illegal("pending")
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
            if status not in ("pending", "capture"):
                raise illegal("pending or capture")
            txn.transaction_status = "cancel"
        elif action in ("expire", "fail"):
            if status != "pending":
                raise illegal("pending")
            txn.transaction_status = "expire" if action == "expire" else "failure"
        elif action in ("refund", "partial_refund"):
            if status not in ("settlement", "capture", "partial_refund") or challenged:
                raise illegal("settlement, capture (accept) or partial_refund")
            self._refund(txn, action, body.get("amount"))
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

    @staticmethod
    def _refund(txn: Transaction, action: str, raw_amount: Any) -> None:
        gross = Decimal(txn.gross_amount)
        refunded = Decimal(txn.refund_amount or "0")
        if action == "refund":
            txn.transaction_status = "refund"
            txn.refund_amount = txn.gross_amount
            return
        try:
            amount = Decimal(format_amount(raw_amount)) if raw_amount is not None \
                else ((gross - refunded) / 2).quantize(Decimal("0.01"))
        except ValueError as exc:
            raise _bad_request(f"amount: {exc}") from exc
        if refunded + amount >= gross:
            raise _conflict("a partial refund must leave part of the amount; use refund for the rest")
        txn.transaction_status = "partial_refund"
        txn.refund_amount = str(refunded + amount)

    # ---------------------------------------------------------- notifications

    def notify(self, txn: Transaction, faults: NotifyFaults | None = None) -> Json:
        """Schedule a notification of the transaction's current state; returns its body."""
        faults = faults or NotifyFaults()
        with self.lock:
            payload = self.status_body(txn, "midtrans payment notification")
            if faults.bad_signature:
                payload["signature_key"] = signature(txn.order_id, payload["status_code"],
                                                     txn.gross_amount, self.server_key + "-wrong")
            note = Notification(next(self._ids), txn.order_id, txn.transaction_id, txn.transaction_status,
                                payload, faults)
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
        if self.notify_url is None and not note.faults.delay:
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

    def _attempt(self, note: Notification, copy: int, attempt: int, outcome: int | str,
                 next_retry_in: float | None) -> None:
        fault = note.faults.names()
        if copy:
            fault.append("duplicate")
        if note.faults.hold and "hold" not in fault:
            fault.append("hold")
        with self.lock:
            self.deliveries.append({
                "notification_id": note.id, "order_id": note.order_id,
                "transaction_id": note.transaction_id, "transaction_status": note.transaction_status,
                "signature_key": note.payload["signature_key"], "copy": copy, "attempt": attempt,
                "http_status": outcome, "fault": "+".join(fault) or None,
                "next_retry_in": next_retry_in, "time": _now_iso()})

    async def _deliver(self, note: Notification, after: asyncio.Event | None = None,
                       first_sent: asyncio.Event | None = None) -> None:
        """Deliver one notification (all its copies, each with its own retries).

        ``after``: wait for it first; ``first_sent``: set once the first attempt is answered.
        """
        try:
            if after is not None:
                await after.wait()
            if note.faults.delay:
                await asyncio.sleep(note.faults.delay)
            if self.notify_url is None:
                note.state = "recorded"
                return
            results = await asyncio.gather(*(self._deliver_copy(note, copy, first_sent if copy == 0 else None)
                                             for copy in range(1 + note.faults.duplicate)))
            note.state = "delivered" if any(results) else "failed"
        except asyncio.CancelledError:
            note.state = "cancelled"
            raise
        finally:
            if first_sent is not None:
                first_sent.set()

    async def _deliver_copy(self, note: Notification, copy: int, first_sent: asyncio.Event | None) -> bool:
        assert self.notify_url is not None
        client = self._http()
        content = json.dumps(note.payload).encode()
        headers = {"content-type": "application/json", "accept": "application/json",
                   "user-agent": "Midtrans-Simulator/1.0"}
        attempt = 0
        while True:
            attempt += 1
            outcome: int | str
            try:
                response = await client.post(self.notify_url, content=content, headers=headers)
                outcome = response.status_code
            except httpx.TimeoutException:
                outcome = "timeout"
            except Exception:
                outcome = "error"
            ok = isinstance(outcome, int) and 200 <= outcome < 300
            done_retries = attempt - 1
            delay = None if ok or done_retries >= max_retries(outcome) \
                else RETRY_SCHEDULE[done_retries] * self.retry_scale
            self._attempt(note, copy, attempt, outcome, delay)
            if first_sent is not None:
                first_sent.set()
            if delay is None:
                return ok
            await asyncio.sleep(delay)

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
            if parts[0] == "snap":
                if method != "POST":
                    raise _method_not_allowed()
                return (*self._snap_create(raw, headers, scope), [])
            if parts == ["v2", "charge"]:
                if method != "POST":
                    raise _method_not_allowed()
                return (*self._charge(raw), [])
            if len(parts) == 3 and parts[2] in ("status", "expire", "cancel"):
                if (parts[2] == "status") != (method == "GET") or method not in ("GET", "POST"):
                    raise _method_not_allowed()
                return await self._merchant_status(parts[1], parts[2], receive)
        return 404, {"status_code": "404", "status_message": "The requested resource is not found"}, []

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.strip().partition(" ")
        return scheme.lower() == "basic" and hmac.compare_digest(token.strip().encode(),
                                                                  self._auth_token.encode())

    # ---------------------------------------------------------- merchant API

    def _snap_create(self, raw: bytes, headers: dict[str, str], scope: Scope) -> tuple[int, Json]:
        body = _json_body(raw, snap=True)
        order_id, amount = _transaction_details(body, snap=True)
        token = self.create_snap(order_id, amount)
        scheme = scope.get("scheme", "http")
        host = headers.get("host") or "{}:{}".format(*(scope.get("server") or ("127.0.0.1", 80)))
        return 201, {"token": token, "redirect_url": f"{scheme}://{host}/snap/v2/vtweb/{token}"}

    def _charge(self, raw: bytes) -> tuple[int, Json]:
        body = _json_body(raw)
        payment_type = body.get("payment_type")
        if not isinstance(payment_type, str) or not payment_type:
            raise _validation(["payment_type is required"])
        order_id, amount = _transaction_details(body)
        try:
            txn, _ = self.create_transaction(order_id, amount, payment_type)
        except SimError as exc:
            if exc.status != 409:
                raise
            return 200, {"status_code": "406", "id": str(uuid.uuid4()), "status_message":
                         "The request could not be completed due to a conflict with the current state of "
                         "the target resource, please try again"}
        label = payment_type.replace("_", " ").title()
        return 201, self.status_body(txn, f"Success, {label} transaction is created")

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
            missing = {"status_code": "404", "status_message": "Transaction doesn't exist.",
                       "id": str(uuid.uuid4())}
            return (200 if mode == "not_found_in_body" else 404), missing, []
        _, txn = found
        if verb == "status":
            return 200, self.status_body(txn), []
        with self.lock:
            allowed = txn.transaction_status == "pending" or (
                verb == "cancel" and txn.transaction_status == "capture" and txn.fraud_status == "challenge")
            if not allowed:
                return 200, {"status_code": "412",
                             "status_message": "Merchant cannot modify the status of the transaction"}, []
            txn.transaction_status = "expire" if verb == "expire" else "cancel"
            self._record(txn, f"api_{verb}")
            self.notify(txn)
            message = "Success, transaction has expired" if verb == "expire" \
                else "Success, transaction is canceled"
            return 200, self.status_body(txn, message), []

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
                return 200, {"status_api": self.status_faults.as_json()}
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
        faults = NotifyFaults.parse(body.get("faults"))
        txn, note = self.create_transaction(order_id, amount, payment_type, notify, faults)
        return 201, {"transaction": self.status_body(txn), "notification": note}

    def _set_faults(self, body: Json) -> None:
        raw = body.get("status_api")
        if not isinstance(raw, dict):
            raise _bad_request('expected {"status_api": {"mode": ..., "count": ..., "delay": ...}}')
        mode = raw.get("mode", "ok")
        count = raw.get("count")
        delay = raw.get("delay", 0)
        if mode not in STATUS_FAULT_MODES:
            raise _bad_request(f"mode must be one of {sorted(STATUS_FAULT_MODES)}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise _bad_request("count must be an integer >= 0 or null")
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise _bad_request("delay must be a number of seconds >= 0")
        with self.lock:
            self.status_faults = StatusFaults(mode, count, float(delay))


class _Disconnected(Exception):
    """The client hung up while the simulator was stalling."""


def _method_not_allowed() -> SimError:
    return SimError(405, {"status_code": "405", "status_message": "HTTP method is not allowed"})


def _validation(messages: list[str], snap: bool = False) -> SimError:
    if snap:
        return SimError(400, {"error_messages": messages})
    return SimError(400, {"status_code": "400", "status_message": "One or more parameters in the payload "
                          "is invalid.", "validation_messages": messages})


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


__all__ = ["ACTIONS", "RETRY_SCHEDULE", "Simulator", "create_app", "format_amount", "max_retries", "run",
           "status_code_for"]
