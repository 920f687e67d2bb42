"""Operator actions at Midtrans: ``payments capture | approve | deny | cancel``,
and the automatic capture of card pre-authorisations by sync.

An action is: ask the Status API about the order (Midtrans' current
transaction for it); if Midtrans already did it (a repeat, or a repeat after a
timeout that hid a success), apply that answer and say so; else call the
action on that transaction and apply its answer. Midtrans' answer goes through
``payments.record_operator_action``, which logs the action with the acting
login (``session_user``) and applies the answer with ``apply_gateway_status``,
the decision path of every notification (evidence ``action``, or
``status_api`` for what Midtrans had already done). A refusal (412, 404, 401)
or no answer changes nothing here but that log row; no transaction is open
while Midtrans is being asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg.rows import dict_row

from runner import db
from runner.midtrans import ActionResult, Found, MidtransClient, MidtransError, NotFound, Refused
from runner.settings import Settings

log = logging.getLogger("payments.actions")

ACTIONS = ("capture", "approve", "deny", "cancel")
DONE = {"capture": "captured", "approve": "approved", "deny": "denied", "cancel": "cancelled"}
#: the Midtrans status an action needs: capture an authorisation, approve / deny a challenge
NEEDS = {"capture": ("authorize", None), "approve": ("capture", "challenge"),
         "deny": ("capture", "challenge")}
#: the ledger stage at which a paying action's transaction must already be recorded
RECORDED_STAGE = {"capture": 11, "approve": 20}
JAKARTA = timedelta(hours=7)
CARD = "credit_card"


@dataclass(frozen=True)
class Outcome:
    """What the command prints (one line) and exits with."""

    exit_code: int
    line: str
    result: dict[str, Any] | None = None


def already_done(action: str, body: dict[str, Any]) -> bool:
    """Whether Midtrans' transaction is where the action would have put it."""
    status = str(body.get("transaction_status") or "").strip().lower()
    fraud = str(body.get("fraud_status") or "accept").strip().lower()
    if action != "cancel" and body.get("payment_type", CARD) not in (CARD, "gopay"):
        return False   # only card (and GoPay) payments are captured or challenged: Midtrans refuses
    if action in ("capture", "approve"):
        return status in ("capture", "settlement") and fraud == "accept"
    if action == "deny":
        return status == "deny"
    return status == "cancel"


def _state(body: dict[str, Any]) -> str:
    status = body.get("transaction_status") or "?"
    fraud = body.get("fraud_status")
    return f"{status} ({fraud})" if fraud and status == "capture" else str(status)


def _refusal(body: dict[str, Any]) -> str:
    return f"{body.get('status_code')} {str(body.get('status_message') or '').strip()}".strip()


async def connect(database_url: str) -> psycopg.AsyncConnection:
    """An autocommit connection without prepared statements (pooler-safe), rows as dicts."""
    return await psycopg.AsyncConnection.connect(database_url, autocommit=True, row_factory=dict_row,
                                                 application_name="payments-operator",
                                                 **db.CONNECT_OPTIONS)


async def _report(conn: psycopg.AsyncConnection, name: str, **params: Any) -> dict[str, Any]:
    cur = await conn.execute(db.query(name, db.REPORTS_FILE), params)
    row = await cur.fetchone()
    assert row is not None
    return row


async def record(conn: psycopg.AsyncConnection, order_number: str, action: str, outcome: str,
                 answer: dict[str, Any] | None, amount: int | None = None,
                 note: str | None = None) -> dict[str, Any]:
    """payments.record_operator_action: log the action and, when Midtrans did it, apply its answer."""
    row = await _report(conn, "record_operator_action", order_id=order_number, action=action,
                        outcome=outcome, answer=db.jsonb(answer), requested_amount=amount, note=note)
    return row["result"]


def _local(result: dict[str, Any]) -> str:
    decision = result.get("decision")
    previous, status = result.get("previous_status"), result.get("status")
    if previous and previous != status:
        return f"order {previous} -> {status} (decision {decision})"
    return f"order {status} (decision {decision})"


async def perform(conn: psycopg.AsyncConnection, client: MidtransClient, action: str, order_number: str,
                  amount: int | None = None, note: str | None = None) -> Outcome:
    """One operator action on an order; never raises for a Midtrans refusal or outage."""
    title = f"payments {action} {order_number}"
    try:
        summary = (await _report(conn, "order_summary", order_id=order_number))["summary"]
    except psycopg.Error as exc:
        if exc.sqlstate == db.UNKNOWN_ORDER:
            return Outcome(1, f"{title}: unknown order; nothing sent to Midtrans")
        raise

    if not (await _report(conn, "may_record_operator_action"))["allowed"]:
        # checked before anything is sent: an action Midtrans carried out must be recordable
        return Outcome(1, f"{title}: permission denied for function record_operator_action (SQLSTATE 42501) "
                          "— this login lacks that privilege; run it as a login in payments_operator; "
                          "nothing sent to Midtrans")

    async def not_done(outcome: str, answer: dict[str, Any], line: str) -> Outcome:
        result = await record(conn, order_number, action, outcome, answer, amount, note)
        return Outcome(1, f"{title}: {line}; nothing changed here", result)

    try:
        current = await client.status(order_number)
    except MidtransError as exc:
        return await not_done(*_unavailable(exc, "could not be asked about the order"))
    if isinstance(current, NotFound):
        return await not_done("refused", current.body,
                              f"Midtrans refused: {_refusal(current.body)} (no transaction for this order)")
    body = current.body
    txid = str(body.get("transaction_id") or "")
    if already_done(action, body):
        return await _already(conn, title, action, order_number, body, amount, note)

    needed = NEEDS.get(action)
    if action in RECORDED_STAGE and needed and _matches(body, needed):
        recorded = {t["transaction_id"]: t["stage"] for t in summary.get("transactions") or []}
        if recorded.get(txid) != RECORDED_STAGE[action]:
            return await not_done("not_sent", body,
                                  f"Midtrans holds transaction {txid} as {_state(body)}, which the ledger "
                                  f"has not recorded; run `payments sync --order {order_number}` first "
                                  "(nothing sent to Midtrans)")
    requested = amount
    if action == "capture" and requested is None:
        requested = _whole(body.get("gross_amount"))

    try:
        if action == "capture":
            answer: ActionResult = await client.capture(txid, requested)
        else:
            answer = await getattr(client, action)(txid)
    except MidtransError as exc:
        outcome, info, line = _unavailable(exc, f"did not confirm the {action}")
        if outcome == "unavailable":
            line += f"; whether Midtrans {DONE[action]} it is unknown: run the command again, it asks first"
        return await not_done(outcome, info, line)

    if isinstance(answer, Found):
        try:
            result = await record(conn, order_number, action, "done", answer.body, requested, note)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return Outcome(1, f"{title}: {DONE[action]} at Midtrans (transaction {txid}), but the database "
                              f"refused to apply the answer: {first} (SQLSTATE {exc.sqlstate}); "
                              f"`payments sync --order {order_number}` applies Midtrans' status")
        code = 1 if result.get("decision") in ("status_inconsistent", "gateway_disagreement") else 0
        gross = answer.body.get("gross_amount")
        return Outcome(code, f"{title}: {DONE[action]} at Midtrans (transaction {txid}"
                             + (f", {gross}" if action == "capture" and gross else "")
                             + f", now {_state(answer.body)}); {_local(result)}", result)

    # Refused or NotFound: a retried call Midtrans had carried out answers 412 too
    try:
        after = await client.status(order_number)
    except MidtransError:
        after = None
    if isinstance(after, Found) and already_done(action, after.body):
        return await _already(conn, title, action, order_number, after.body, requested, note)
    state = f" (transaction {txid} is {_state(after.body)})" if isinstance(after, Found) else ""
    return await not_done("refused", answer.body, f"Midtrans refused: {_refusal(answer.body)}{state}")


async def _already(conn: psycopg.AsyncConnection, title: str, action: str, order_number: str,
                   body: dict[str, Any], amount: int | None, note: str | None) -> Outcome:
    try:
        result = await record(conn, order_number, action, "already_done", body, amount, note)
    except psycopg.Error as exc:
        if exc.sqlstate != "PM026":
            raise
        return Outcome(1, f"{title}: already {DONE[action]} at Midtrans (transaction "
                          f"{body.get('transaction_id')}), a transaction the ledger has not recorded; run "
                          f"`payments sync --order {order_number}` to apply Midtrans' status")
    txid = body.get("transaction_id")
    return Outcome(0, f"{title}: already {DONE[action]} at Midtrans (transaction {txid}, {_state(body)}); "
                      f"nothing to do there; {_local(result)}", result)


def _matches(body: dict[str, Any], needed: tuple[str, str | None]) -> bool:
    status = str(body.get("transaction_status") or "").lower()
    fraud = str(body.get("fraud_status") or "").lower()
    return status == needed[0] and (needed[1] is None or fraud == needed[1])


def _unavailable(exc: MidtransError, what: str) -> tuple[str, dict[str, Any], str]:
    """(outcome, what to log, the line) for a Midtrans call that raised."""
    info = {"status_code": None if exc.status is None else str(exc.status), "status_message": str(exc)[:200]}
    if exc.status is not None and exc.status < 500 and exc.status != 429:
        return "refused", info, f"Midtrans refused: {exc}"
    return "unavailable", info, f"Midtrans {what} ({exc})"


def _whole(amount: Any) -> int | None:
    """Midtrans' "150000.00" as the integer the Capture API takes (None: let Midtrans capture all)."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return None
    return int(value) if value == value.to_integral_value() and value > 0 else None


# -- automatic capture (sync) -------------------------------------------------------------


def authorization_due(settings: Settings, body: dict[str, Any], now: datetime | None = None) -> bool:
    """An authorisation to capture now: its transaction_time (Jakarta) plus
    PAYMENTS_AUTHORIZATION_VALIDITY, less PAYMENTS_AUTO_CAPTURE_BEFORE, has come.
    Without a readable transaction_time it is due (capturing early loses nothing;
    an expired authorisation loses the sale)."""
    now = now or datetime.now(UTC)
    try:
        authorized = datetime.strptime(str(body.get("transaction_time")), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return True
    authorized = authorized.replace(tzinfo=UTC) - JAKARTA
    validity = timedelta(seconds=settings.authorization_validity)
    return authorized + validity - timedelta(seconds=settings.auto_capture_before) <= now


async def auto_capture(settings: Settings, client: MidtransClient, order_id: str,
                       body: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """Capture an authorisation that is due (PAYMENTS_AUTO_CAPTURE): (the answer to
    apply, its evidence), or None when nothing is due. A capture Midtrans refuses
    (the transaction moved on meanwhile) gives the Status API's fresh answer."""
    if not (settings.auto_capture and str(body.get("transaction_status")).lower() == "authorize"
            and authorization_due(settings, body)):
        return None
    answer = await client.capture(str(body.get("transaction_id")), _whole(body.get("gross_amount")))
    if isinstance(answer, Found):
        log.info("sync %s: authorisation captured automatically", order_id,
                 extra={"order_id": order_id, "transaction_id": body.get("transaction_id")})
        return answer.body, "action"
    log.warning("sync %s: automatic capture refused: %s", order_id, _refusal(answer.body),
                extra={"order_id": order_id})
    fresh = await client.status(order_id)
    return (fresh.body, "status_api") if isinstance(fresh, Found) else None


__all__ = ["ACTIONS", "Outcome", "Refused", "authorization_due", "auto_capture", "perform"]
