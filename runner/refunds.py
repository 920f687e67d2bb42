"""Refunds initiated from the shop, and reviews resolved by refunding.

A refund moves money at Midtrans first, and only then in the books:

1. ``payments.request_refund`` records the request with its ``refund_key``
   (one transaction, before any HTTP call). An open request of the order --
   one whose answer never arrived -- is returned instead, so a retry after a
   timeout or a crash sends the same key, and Midtrans replays its first
   answer rather than refunding twice.
2. The Refund API (``POST /v2/{transaction_id}/refund``), or the Direct Refund
   API (``/refund/online/direct``) where Midtrans routes the method there
   (:func:`needs_direct_refund`, or ``direct=True``).
3. Refunded: the Status API's answer for the transaction and the named goods
   go to ``payments.record_refund`` (one transaction: apply the status,
   return the goods, close the request). Refused (not settled, method not
   refundable, window passed, amount, unknown transaction, the bank denied a
   direct refund): ``payments.close_refund_request`` marks it ``refused`` and
   nothing else changes. No answer: the request stays open for the retry.

Every failure is a :class:`RefundError` with one line for the operator.
The functions run under a login in ``payments_operator``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg.rows import dict_row

from runner import db
from runner.midtrans import Found, MidtransClient, MidtransError, NotFound, Refused

#: SQLSTATEs whose message is the operator's answer (docs/SQL_API.md)
OPERATOR_ERRORS = frozenset({"PM001", "PM009", "PM012", "PM020", "PM021", "PM022", "PM023", "PM024"})
#: Card acquiring banks that Midtrans' card refund documentation routes to the
#: Direct Refund API (the Refund API's card refunds go through BNI, Mandiri, CIMB).
DIRECT_REFUND_CARD_BANKS = frozenset({"bca", "maybank", "bri"})
#: resolve actions: SQL action per CLI action
REVIEW_ACTIONS = ("refund", "refunded_in_dashboard", "accept", "dismiss")


class RefundError(Exception):
    """A refund or resolution that did not happen (or not completely): one line.

    ``request`` is the refund request's row as far as it is known (its
    ``state`` says whether it stays open for a retry)."""

    def __init__(self, message: str, request: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.request = dict(request or {})


def needs_direct_refund(status: Mapping[str, Any]) -> bool:
    """Whether Midtrans refunds this transaction through the Direct Refund API
    only: card payments acquired by BCA, Maybank or BRI. Every other method the
    Refund API takes (Midtrans now accepts ``/refund`` for all of them)."""
    bank = str(status.get("bank") or "").strip().lower()
    return status.get("payment_type") == "credit_card" and bank in DIRECT_REFUND_CARD_BANKS


def parse_goods(return_tickets: Iterable[str] | str | None = None,
                restock: Mapping[str, int] | Iterable[str] | str | None = None) -> dict[str, Any] | None:
    """``--return-tickets CODE,ID,...`` and ``--restock SKU=QTY,...`` as the SQL API's goods.

    Raises ValueError for a malformed list."""
    tickets: list[Any] = []
    if isinstance(return_tickets, str):
        return_tickets = return_tickets.split(",")
    for item in return_tickets or ():
        text = str(item).strip()
        if text:
            tickets.append(int(text) if text.isdigit() else text)
    lines: dict[str, int] = {}
    if isinstance(restock, Mapping):
        lines = {str(k): int(v) for k, v in restock.items()}
    else:
        if isinstance(restock, str):
            restock = restock.split(",")
        for entry in restock or ():
            if not str(entry).strip():
                continue
            sku, sep, qty = str(entry).partition("=")
            if not sep or not sku.strip() or not qty.strip().isdigit() or int(qty) < 1:
                raise ValueError(f"--restock takes SKU=QUANTITY,... (quantity >= 1), got {entry!r}")
            if sku.strip() in lines:
                raise ValueError(f"--restock names {sku.strip()} twice")
            lines[sku.strip()] = int(qty)
    goods: dict[str, Any] = {}
    if tickets:
        goods["tickets"] = tickets
    if lines:
        goods["restock"] = lines
    return goods or None


def parse_amount(value: Any) -> Decimal | None:
    """A refund amount (ValueError when not a positive number with at most 2 decimals)."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"amount must be a number, got {value!r}") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"amount must be > 0 with at most 2 decimals, got {value!r}")
    return amount


async def _connect(database_url: str) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(database_url, autocommit=True, row_factory=dict_row,
                                                 application_name="payments-operator", **db.CONNECT_OPTIONS)


async def _call(conn: psycopg.AsyncConnection, name: str, what: str, **params: Any) -> dict[str, Any]:
    """One SQL API call of runner/reports.sql; its project error as one RefundError line."""
    try:
        cur = await conn.execute(db.query(name, db.REPORTS_FILE), params)
        row = await cur.fetchone()
    except psycopg.Error as exc:
        if exc.sqlstate in OPERATOR_ERRORS:
            message = exc.diag.message_primary or str(exc).splitlines()[0]
            raise RefundError(f"{what}: {message} (SQLSTATE {exc.sqlstate})") from None
        raise
    assert row is not None
    return row["result"]


def _answer_line(body: Mapping[str, Any]) -> str:
    return f"{body.get('status_code')} {str(body.get('status_message') or '')[:200]}".strip()


async def refund_order(database_url: str, client: MidtransClient, order_number: str, *,
                       amount: Any = None, reason: str | None = None, transaction_id: str | None = None,
                       return_tickets: Iterable[str] | str | None = None,
                       restock: Mapping[str, int] | Iterable[str] | str | None = None,
                       direct: bool | None = None) -> dict[str, Any]:
    """Refund an order (all of what is left of its settled transaction, or
    ``amount``) at Midtrans, then record it; the named goods go back.

    Returns record_refund's result plus ``direct`` and ``reused`` (an open
    request retried). Raises :class:`RefundError` (one line) when nothing was
    refunded or the outcome is unknown; its ``request['state']`` is
    ``requested`` when the request stays open for a retry."""
    what = f"refund {order_number}"
    try:
        value = parse_amount(amount)
        goods = parse_goods(return_tickets, restock)
    except ValueError as exc:
        raise RefundError(f"{what}: {exc}") from None
    conn = await _connect(database_url)
    async with conn:
        request = await _call(conn, "request_refund", what, order_id=order_number, amount=value,
                              reason=reason, transaction_id=transaction_id, goods=db.jsonb(goods))
        request_id, key, tx = request["request_id"], request["refund_key"], request["transaction_id"]
        still_open = (f"request #{request_id} (refund_key {key}) stays open: run the same command again, "
                      "the same key refunds at most once")
        try:
            if direct is None:
                found = await client.status(tx)
                if isinstance(found, NotFound):
                    closed = await _call(conn, "close_refund_request", what, request_id=request_id,
                                         state="refused", answer=db.jsonb(found.body))
                    raise RefundError(f"{what}: Midtrans does not know transaction {tx} "
                                      f"({_answer_line(found.body)}); nothing refunded", closed)
                direct = needs_direct_refund(found.body)
            call = client.direct_refund if direct else client.refund
            result = await call(tx, key, request["amount"], request.get("reason"))
        except MidtransError as exc:
            if exc.status == 400:   # a validation answer: certainly not refunded
                answer = {"status_code": "400", "status_message": str(exc)[:300]}
                closed = await _call(conn, "close_refund_request", what, request_id=request_id,
                                     state="failed", answer=db.jsonb(answer))
                raise RefundError(f"{what}: Midtrans rejected the request: {exc}; nothing refunded",
                                  closed) from None
            raise RefundError(f"{what}: Midtrans did not answer ({exc}); {still_open}",
                              {**request, "state": "requested"}) from None
        if isinstance(result, Refused | NotFound):
            closed = await _call(conn, "close_refund_request", what, request_id=request_id, state="refused",
                                 answer=db.jsonb(result.body))
            api = "Direct Refund API" if direct else "Refund API"
            raise RefundError(f"{what}: Midtrans' {api} refused: {_answer_line(result.body)}; "
                              f"nothing refunded (request #{request_id} refused)", closed)
        assert isinstance(result, Found)
        status: dict[str, Any] | None = None
        try:
            confirmed = await client.status(tx)
            if isinstance(confirmed, Found):
                status = confirmed.body
        except MidtransError:
            status = None   # the ledger follows with the notification or the next sync
        try:
            recorded = await _call(conn, "record_refund", what, request_id=request_id,
                                   answer=db.jsonb(result.body), status=db.jsonb(status))
        except RefundError as exc:
            if "PM024" not in str(exc):
                raise RefundError(f"{exc}; Midtrans refunded, the books not yet: {still_open}",
                                  {**request, "state": "requested"}) from None
            # the same request was retried at the same time and recorded by the other call
            raise RefundError(f"{what}: request #{request_id} (refund_key {key}) was recorded by another "
                              "call meanwhile; Midtrans refunded it once", request) from None
        except psycopg.Error as exc:
            raise RefundError(f"{what}: Midtrans refunded but the database refused to record it "
                              f"({str(exc).splitlines()[0]}); {still_open}",
                              {**request, "state": "requested"}) from None
    return {**recorded, "direct": bool(direct), "reused": request.get("reused", False),
            "status_confirmed": status is not None}


def refund(database_url: str, api_base_url: str, server_key: str, order_number: str, *,
           timeout: float = 10.0, retries: int = 3, **options: Any) -> dict[str, Any]:
    """:func:`refund_order` with its own Midtrans client (for scripts and the demo)."""

    async def go() -> dict[str, Any]:
        async with MidtransClient(api_base_url, server_key, timeout=timeout, retries=retries) as client:
            return await refund_order(database_url, client, order_number, **options)

    return asyncio.run(go())


async def resolve_review(database_url: str, client: MidtransClient | None, order_number: str, reason: str,
                         action: str, *, note: str | None = None, subject: str | None = None,
                         refund_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A person's decision on an open review. ``refund`` moves the money at
    Midtrans first (:func:`refund_order` with ``refund_options``: amount,
    reason, transaction_id, return_tickets, restock, direct), then resolves
    the review with the recorded refund; ``refunded_in_dashboard`` records a
    refund made in the Midtrans dashboard; ``accept`` / ``dismiss`` as
    payments.resolve_review."""
    what = f"resolve {order_number} {reason}"
    if action not in REVIEW_ACTIONS:
        raise RefundError(f"{what}: action must be one of {', '.join(REVIEW_ACTIONS)}")
    refunded: dict[str, Any] | None = None
    if action == "refund":
        if client is None:
            raise RefundError(f"{what}: refunding needs Midtrans (MIDTRANS_SERVER_KEY)")
        conn = await _connect(database_url)
        async with conn:
            cur = await conn.execute(db.query("open_reviews", db.REPORTS_FILE), {"order_id": order_number})
            reviews = await cur.fetchall()
        if not any(r["reason"] == reason and (subject is None or r["subject"] == subject
                                              or r["subject"].startswith(f"{subject}:")) for r in reviews):
            raise RefundError(f"{what}: order {order_number} has no open {reason} review"
                              + (f" about {subject}" if subject else "") + "; nothing refunded")
        refunded = await refund_order(database_url, client, order_number, **(refund_options or {}))
        note = f"refund request #{refunded['request_id']}" + (f": {note}" if note else "")
    conn = await _connect(database_url)
    async with conn:
        try:
            resolved = await _call(conn, "resolve_review", what, order_id=order_number, reason=reason,
                                   action=action, note=note, subject=subject)
        except RefundError:
            if refunded is None:
                raise
            cur = await conn.execute(db.query("open_reviews", db.REPORTS_FILE), {"order_id": order_number})
            still = [r for r in await cur.fetchall() if r["reason"] == reason]
            if still:
                raise
            # the refund itself closed it (a tracking review whose condition ended)
            resolved = {"order_number": order_number, "reason": reason, "action": "refund",
                        "status": refunded["status"], "closed_by": "the refund (automatically)"}
    if refunded is not None:
        resolved["refund"] = refunded
    return resolved


def _money(value: Any) -> str:
    amount = Decimal(str(value))
    return str(amount.quantize(Decimal(1))) if amount == amount.to_integral_value() else str(amount)


def summary(result: Mapping[str, Any]) -> str:
    """One human line for a recorded refund."""
    returned = result.get("returned") or {}
    parts = []
    if returned.get("tickets_voided"):
        parts.append(f"{len(returned['tickets_voided'])} ticket(s) voided")
    for line in returned.get("restocked") or ():
        parts.append(f"{line['quantity']} x {line['sku']} restocked")
    if returned.get("not_returned"):
        parts.append(f"not returned: {returned['not_returned']}")
    if returned.get("skipped"):
        parts.append(str(returned["skipped"]))
    released = result.get("status") in ("refunded", "failed", "expired")
    goods = "; ".join(parts) or ("everything it held released" if released else "goods kept")
    via = "Direct Refund API" if result.get("direct") else "Refund API"
    reused = ", retried request" if result.get("reused") else ""
    return (f"refund {result['order_number']}: {_money(result['amount'])} refunded of transaction "
            f"{result['transaction_id']} via the {via} ({result.get('transaction_status')}{reused}); "
            f"request #{result['request_id']} key {result['refund_key']}; order {result['status']}; {goods}")


__all__ = ["RefundError", "needs_direct_refund", "parse_amount", "parse_goods", "refund", "refund_order",
           "resolve_review", "summary"]
