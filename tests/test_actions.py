"""Operator actions at Midtrans (`payments capture | approve | deny | cancel`)
and the automatic capture of card pre-authorisations, end to end: PostgreSQL,
the webhook, the Midtrans simulator over real HTTP and `payments` processes.
Refusals change nothing; a repeat is a no-op; a cancel racing a settlement
ends with the books and Midtrans agreeing."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import httpx
import pytest
from psycopg import sql

from runner import actions
from runner.midtrans import MidtransClient
from tests import test_integration
from tests.pgserver import Server
from tests.servers import asgi_server
from tests.test_integration import SERVER_KEY, Stack, eventually

#: PostgreSQL, the simulator and the webhook confirming with its Status API
stack = test_integration.stack


@pytest.fixture()
def operator_url(pg_server: Server, db_url: str) -> Iterator[str]:
    """URL of a person's login: a LOGIN role that is only a member of payments_operator."""
    role = f"ops_{os.getpid()}_{os.urandom(3).hex()}"
    password = "op-" + os.urandom(6).hex()
    with pg_server.admin() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE payments_operator").format(
            sql.Identifier(role), sql.Literal(password)))
    parts = db_url.split("://", 1)[1].split("@", 1)[1]
    try:
        yield f"postgresql://{role}:{password}@{parts}"
    finally:
        with pg_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                          (role,))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def role_of(url: str) -> str:
    return url.split("://", 1)[1].split(":", 1)[0]


def sim_state(stack: Stack, order_id: str) -> tuple[str, str | None]:
    """Midtrans' (the simulator's) status of the order's latest transaction."""
    body = httpx.get(f"{stack.sim}/v2/{order_id}/status", auth=(SERVER_KEY, ""), timeout=10).json()
    return body["transaction_status"], body.get("fraud_status")


def ledger(stack: Stack, order_id: str) -> list[tuple[str, int]]:
    return stack.db.execute(
        "SELECT t.transaction_status, t.stage FROM payments.gateway_transactions t"
        " JOIN payments.orders o ON o.id = t.order_id WHERE o.order_number = %s ORDER BY t.first_seen_at",
        (order_id,)).fetchall()


def books(stack: Stack, order_id: str) -> tuple:
    """Everything an action may change about an order: status, ledger, goods, reviews, counters."""
    order = stack.db.execute(
        "SELECT status, needs_review, paid_at, capacity_released_at, tickets_issued_at"
        " FROM payments.orders WHERE order_number = %s", (order_id,)).fetchone()
    reviews = stack.db.execute(
        "SELECT reason, subject, resolved_at FROM payments.order_reviews r JOIN payments.orders o"
        " ON o.id = r.order_id WHERE o.order_number = %s ORDER BY r.id", (order_id,)).fetchall()
    slot = stack.db.execute("SELECT reserved, sold FROM payments.ticket_slots WHERE code = 'GIG'").fetchone()
    return order, ledger(stack, order_id), reviews, slot, stack.tickets(order_id)


def actions_logged(stack: Stack, order_id: str) -> list[tuple[str, str, str]]:
    """(action, outcome, actor) of every operator_action row of the order."""
    return [tuple(r) for r in stack.db.execute(
        "SELECT detail->>'action', outcome, detail->>'actor' FROM payments.webhook_logs"
        " WHERE order_number = %s AND event_type = 'operator_action' ORDER BY id", (order_id,))]


def authorised(stack: Stack, order_id: str, card: str = "authorize", amount: int = 150000) -> None:
    """An order whose card payment Midtrans authorised (or challenged), recorded by the webhook."""
    stack.order(order_id, amount=amount)
    stack.control("/transactions", {"order_id": order_id, "gross_amount": amount,
                                    "payment_type": "credit_card", "card": card})
    stage = {"authorize": 11, "challenge": 20}[card]
    eventually(lambda: [s for _, s in ledger(stack, order_id)] == [stage], what=f"the {card} notification")


def one_line(result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


# -- capture ------------------------------------------------------------------------------


def test_capture_an_authorisation_pays_the_order_and_a_repeat_is_a_no_op(stack: Stack, operator_url) -> None:
    authorised(stack, "CAP-1")
    assert stack.status("CAP-1") == "pending" and stack.tickets("CAP-1") == 0

    first = stack.payments("capture", "CAP-1", "--note", "guest checked in",
                           PAYMENTS_DATABASE_URL=operator_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "CAP-1: captured at Midtrans" in first.stdout
    assert sim_state(stack, "CAP-1") == ("capture", "accept")
    assert stack.status("CAP-1") == "paid" and stack.tickets("CAP-1") == 2
    # the answer went through apply_gateway_status (the capture's notification may
    # have been applied a moment before it: then the answer was a duplicate)
    applied = stack.db.execute(
        "SELECT outcome FROM payments.webhook_logs WHERE order_number = 'CAP-1'"
        " AND event_type = 'gateway_status' AND source = 'manual'"
        " AND detail->>'evidence' = 'action'").fetchall()
    assert applied in ([("paid",)], [("noop",)])
    note = stack.db.execute("SELECT detail->>'note' FROM payments.webhook_logs"
                            " WHERE event_type = 'operator_action'").fetchone()[0]
    assert note == "guest checked in"

    before = books(stack, "CAP-1")
    again = stack.payments("capture", "CAP-1", PAYMENTS_DATABASE_URL=operator_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already captured at Midtrans" in again.stdout and "decision noop" in again.stdout
    assert books(stack, "CAP-1") == before
    actor = role_of(operator_url)
    assert actions_logged(stack, "CAP-1") == [("capture", "done", actor), ("capture", "already_done", actor)]
    assert stack.invariants() == []


def test_capture_of_part_of_an_authorisation_and_above_it(stack: Stack) -> None:
    authorised(stack, "CAP-2")
    above = stack.payments("capture", "CAP-2", "--amount", "150001")
    assert "HTTP 400" in one_line(above) and "nothing changed here" in above.stderr
    assert sim_state(stack, "CAP-2") == ("authorize", "accept")
    assert [s for _, s in ledger(stack, "CAP-2")] == [11] and stack.status("CAP-2") == "pending"

    part = stack.payments("capture", "CAP-2", "--amount", "100000")
    assert part.returncode == 0, part.stderr
    # 100000 of 150000 captured: the money does not cover the order, a person looks at it
    assert stack.status("CAP-2") == "pending"
    reviews = stack.db.execute("SELECT reason FROM payments.order_reviews WHERE resolved_at IS NULL")
    assert reviews.fetchall() == [("amount_mismatch",)]
    assert stack.invariants() == []


def test_capture_is_refused_for_what_is_not_an_authorisation(stack: Stack) -> None:
    stack.order("CAP-3")
    stack.control("/transactions", {"order_id": "CAP-3", "gross_amount": 150000})   # a bank transfer
    eventually(lambda: ledger(stack, "CAP-3") == [("pending", 10)], what="the pending notification")
    before = books(stack, "CAP-3")
    result = stack.payments("capture", "CAP-3")
    line = one_line(result)
    assert "Midtrans refused: 412 Merchant cannot modify the status of the transaction" in line
    assert "is pending" in line and "nothing changed here" in line
    assert books(stack, "CAP-3") == before
    assert [a[1] for a in actions_logged(stack, "CAP-3")] == ["refused"]


def test_capture_of_an_authorisation_the_ledger_never_recorded_waits_for_sync(stack: Stack) -> None:
    stack.order("CAP-4")
    stack.control("/transactions", {"order_id": "CAP-4", "gross_amount": 150000,
                                    "payment_type": "credit_card", "card": "authorize", "notify": False})
    line = one_line(stack.payments("capture", "CAP-4"))
    assert "payments sync --order CAP-4" in line and "nothing sent to Midtrans" in line
    assert sim_state(stack, "CAP-4") == ("authorize", "accept")
    assert stack.payments("sync", "--order", "CAP-4").returncode == 0
    assert stack.payments("capture", "CAP-4").returncode == 0
    assert stack.status("CAP-4") == "paid"


# -- automatic capture ----------------------------------------------------------------------


def test_sync_captures_an_authorisation_before_it_runs_out(stack: Stack) -> None:
    authorised(stack, "AUTO-1")
    # fresh: seven days left, more than the one-day margin: left alone
    fresh = stack.payments("sync", "--order", "AUTO-1", PAYMENTS_AUTO_CAPTURE="on")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert sim_state(stack, "AUTO-1") == ("authorize", "accept") and stack.status("AUTO-1") == "pending"

    # six and a half days old: inside the margin
    stack.control("/transactions/AUTO-1/age", {"days": 6.5})
    off = stack.payments("sync", "--order", "AUTO-1")
    assert off.returncode == 0 and sim_state(stack, "AUTO-1")[0] == "authorize", "off by default"
    due = stack.payments("sync", "--order", "AUTO-1", "--json", PAYMENTS_AUTO_CAPTURE="on")
    assert due.returncode == 0, due.stdout + due.stderr
    assert '"auto_captured": 1' in due.stdout
    assert sim_state(stack, "AUTO-1") == ("capture", "accept")
    assert stack.status("AUTO-1") == "paid" and stack.tickets("AUTO-1") == 2
    assert stack.db.execute(
        "SELECT source, detail->>'evidence' FROM payments.webhook_logs WHERE order_number = 'AUTO-1'"
        " AND outcome = 'paid'").fetchall() == [("sync", "action")]
    assert stack.invariants() == []


def test_the_capture_margin_is_a_setting(stack: Stack) -> None:
    authorised(stack, "AUTO-2")
    result = stack.payments("sync", "--order", "AUTO-2", PAYMENTS_AUTO_CAPTURE="on",
                            PAYMENTS_AUTO_CAPTURE_BEFORE="7d")
    assert result.returncode == 0, result.stderr
    assert sim_state(stack, "AUTO-2") == ("capture", "accept") and stack.status("AUTO-2") == "paid"
    bad = stack.payments("sync", "--once", PAYMENTS_AUTO_CAPTURE_BEFORE="8d")
    assert bad.returncode == 2 and "PAYMENTS_AUTO_CAPTURE_BEFORE" in bad.stderr


# -- fraud challenges -------------------------------------------------------------------------


def test_approve_a_challenge(stack: Stack, operator_url) -> None:
    authorised(stack, "FDS-1", card="challenge")
    assert stack.db.execute("SELECT needs_review FROM payments.orders").fetchone() == (True,)
    result = stack.payments("approve", "FDS-1", PAYMENTS_DATABASE_URL=operator_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FDS-1: approved at Midtrans" in result.stdout
    assert sim_state(stack, "FDS-1") == ("capture", "accept")
    assert stack.status("FDS-1") == "paid" and stack.tickets("FDS-1") == 2
    assert stack.db.execute("SELECT reason, resolution FROM payments.order_reviews").fetchall() == [
        ("fraud_challenge", "auto")]
    again = stack.payments("approve", "FDS-1", PAYMENTS_DATABASE_URL=operator_url)
    assert again.returncode == 0 and "already approved" in again.stdout
    assert stack.invariants() == []


def test_deny_a_challenge(stack: Stack, operator_url) -> None:
    authorised(stack, "FDS-2", card="challenge")
    result = stack.payments("deny", "FDS-2", PAYMENTS_DATABASE_URL=operator_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FDS-2: denied at Midtrans" in result.stdout
    assert sim_state(stack, "FDS-2") == ("deny", "deny")
    # the attempt failed: the order stays pending, goods held, the customer may pay again
    assert stack.status("FDS-2") == "pending" and ledger(stack, "FDS-2") == [("deny", 30)]
    assert stack.db.execute("SELECT needs_review FROM payments.orders").fetchone() == (False,)
    again = stack.payments("deny", "FDS-2", PAYMENTS_DATABASE_URL=operator_url)
    assert again.returncode == 0 and "already denied" in again.stdout
    approve = stack.payments("approve", "FDS-2", PAYMENTS_DATABASE_URL=operator_url)
    assert "412" in one_line(approve)
    assert stack.invariants() == []


# -- cancel ----------------------------------------------------------------------------------------


def test_cancel_a_pending_payment_releases_the_hold(stack: Stack, operator_url) -> None:
    stack.order("CAN-1")
    stack.control("/transactions", {"order_id": "CAN-1", "gross_amount": 150000})
    eventually(lambda: ledger(stack, "CAN-1") == [("pending", 10)], what="the pending notification")
    assert stack.db.execute("SELECT reserved FROM payments.ticket_slots").fetchone() == (2,)
    result = stack.payments("cancel", "CAN-1", PAYMENTS_DATABASE_URL=operator_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CAN-1: cancelled at Midtrans" in result.stdout
    assert sim_state(stack, "CAN-1")[0] == "cancel"
    assert stack.status("CAN-1") == "failed"
    assert stack.db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 0)
    again = stack.payments("cancel", "CAN-1", PAYMENTS_DATABASE_URL=operator_url)
    assert again.returncode == 0 and "already cancelled" in again.stdout
    assert [a[1] for a in actions_logged(stack, "CAN-1")] == ["done", "already_done"]
    assert stack.invariants() == []


def test_cancel_an_authorised_payment(stack: Stack, operator_url) -> None:
    authorised(stack, "CAN-2")
    result = stack.payments("cancel", "CAN-2", "--json", PAYMENTS_DATABASE_URL=operator_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"outcome": "done"' in result.stdout
    assert sim_state(stack, "CAN-2")[0] == "cancel" and stack.status("CAN-2") == "failed"
    assert stack.db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 0)
    assert stack.invariants() == []


def test_a_cancel_whose_answer_was_lost_is_applied_on_the_repeat(stack: Stack) -> None:
    stack.order("CAN-3")
    stack.control("/transactions", {"order_id": "CAN-3", "gross_amount": 150000})
    eventually(lambda: ledger(stack, "CAN-3") == [("pending", 10)], what="the pending notification")
    # Midtrans does not answer in time: nothing is known, nothing changes
    stack.control("/faults", {"status_api": {"mode": "timeout", "count": 1}})
    before = books(stack, "CAN-3")
    lost = stack.payments("cancel", "CAN-3", PAYMENTS_HTTP_TIMEOUT="0.5s", PAYMENTS_HTTP_RETRIES="0")
    assert "could not be asked" in one_line(lost)
    assert books(stack, "CAN-3") == before and sim_state(stack, "CAN-3")[0] == "pending"
    # Midtrans cancelled it, but neither its answer nor a notification arrived
    stack.control("/transactions/CAN-3/cancel", {"notify": False})
    repeat = stack.payments("cancel", "CAN-3")
    assert repeat.returncode == 0, repeat.stdout + repeat.stderr
    assert "already cancelled at Midtrans" in repeat.stdout and "pending -> failed" in repeat.stdout
    assert stack.status("CAN-3") == "failed"
    assert [a[1] for a in actions_logged(stack, "CAN-3")] == ["unavailable", "already_done"]
    assert stack.invariants() == []


class LateActions:
    """Midtrans behind a slow link: every request is forwarded to the simulator,
    but the answer to the next `late` action calls (POST .../cancel, /v2/capture)
    comes only after `delay` seconds, when the client has given up. Midtrans
    did it; the client does not know."""

    def __init__(self, upstream: str, late: int, delay: float = 3.0) -> None:
        self.upstream, self.late, self.delay = upstream, late, delay

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                done = message["type"] == "lifespan.shutdown"
                await send({"type": "lifespan.shutdown.complete" if done else "lifespan.startup.complete"})
                if done:
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]
                   if k.decode() in ("authorization", "content-type", "accept")}
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.request(scope["method"], self.upstream + scope["path"], content=body,
                                          headers=headers)
        if scope["method"] == "POST" and scope["path"].endswith(("/cancel", "/capture")) and self.late > 0:
            self.late -= 1
            await asyncio.sleep(self.delay)
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": answer.content})


def test_a_cancel_that_timed_out_after_midtrans_did_it_is_safe_to_repeat(stack: Stack) -> None:
    stack.order("LATE-1")
    stack.control("/transactions", {"order_id": "LATE-1", "gross_amount": 150000,
                                    "override_notification": "http://127.0.0.1:9/nowhere"})
    assert stack.payments("sync", "--order", "LATE-1").returncode == 0
    assert ledger(stack, "LATE-1") == [("pending", 10)]
    proxy_app = LateActions(stack.sim, late=1)
    with asgi_server(proxy_app) as proxy:
        slow = {"MIDTRANS_API_BASE_URL": proxy, "PAYMENTS_HTTP_TIMEOUT": "0.5s", "PAYMENTS_HTTP_RETRIES": "0"}
        before = books(stack, "LATE-1")
        first = stack.payments("cancel", "LATE-1", **slow)
        line = one_line(first)
        assert "did not confirm the cancel" in line and "run the command again" in line
        assert sim_state(stack, "LATE-1")[0] == "cancel", "Midtrans did cancel it"
        assert books(stack, "LATE-1") == before, "but nothing is assumed here"
        repeat = stack.payments("cancel", "LATE-1", **slow)
        assert repeat.returncode == 0, repeat.stdout + repeat.stderr
        assert "already cancelled at Midtrans" in repeat.stdout and "pending -> failed" in repeat.stdout
        assert stack.status("LATE-1") == "failed"

        # a capture whose first attempt timed out after Midtrans captured, retried by the
        # client: Midtrans refuses the second one (412), the command asks and sees it done
        stack.order("LATE-2")
        stack.control("/transactions", {"order_id": "LATE-2", "gross_amount": 150000,
                                        "payment_type": "credit_card", "card": "authorize",
                                        "override_notification": "http://127.0.0.1:9/nowhere"})
        assert stack.payments("sync", "--order", "LATE-2").returncode == 0
        proxy_app.late = 1
        retried = stack.payments("capture", "LATE-2", **{**slow, "PAYMENTS_HTTP_RETRIES": "1"})
        assert retried.returncode == 0, retried.stdout + retried.stderr
        assert "already captured at Midtrans" in retried.stdout and "pending -> paid" in retried.stdout
        assert stack.status("LATE-2") == "paid" and stack.tickets("LATE-2") == 2
    assert [a[1] for a in actions_logged(stack, "LATE-1")] == ["unavailable", "already_done"]
    assert [a[1] for a in actions_logged(stack, "LATE-2")] == ["already_done"]
    assert stack.invariants() == []


# -- refusals --------------------------------------------------------------------------------------


def test_refusals_give_one_line_and_change_nothing(stack: Stack, operator_url) -> None:
    stack.order("REF-1")
    stack.control("/transactions", {"order_id": "REF-1", "gross_amount": 150000})
    stack.control("/transactions/REF-1/settle")
    eventually(lambda: stack.status("REF-1") == "paid", what="the settlement")
    before = books(stack, "REF-1")

    settled = stack.payments("cancel", "REF-1", PAYMENTS_DATABASE_URL=operator_url)
    line = one_line(settled)
    assert line.startswith("payments cancel REF-1: Midtrans refused: 412 ")
    assert "is settlement" in line
    challenged = one_line(stack.payments("approve", "REF-1", PAYMENTS_DATABASE_URL=operator_url))
    assert "412" in challenged
    bad_key = stack.payments("cancel", "REF-1", MIDTRANS_SERVER_KEY="SB-Mid-server-wrong-key",
                             PAYMENTS_DATABASE_URL=operator_url)
    assert "HTTP 401" in one_line(bad_key) and "wrong-key" not in bad_key.stderr + bad_key.stdout
    assert books(stack, "REF-1") == before and sim_state(stack, "REF-1")[0] == "settlement"
    assert [a[1] for a in actions_logged(stack, "REF-1")] == ["refused"] * 3

    stack.order("REF-2")      # Midtrans never heard of it
    unknown = stack.payments("cancel", "REF-2", PAYMENTS_DATABASE_URL=operator_url)
    assert "404 Transaction doesn't exist." in one_line(unknown)
    assert stack.status("REF-2") == "pending"
    nowhere = stack.payments("deny", "NO-SUCH-ORDER", PAYMENTS_DATABASE_URL=operator_url)
    assert "unknown order" in one_line(nowhere)
    assert stack.invariants() == []


def test_only_an_operator_may_act(stack: Stack, pg_server: Server, db_url: str) -> None:
    role = f"reader_{os.getpid()}_{os.urandom(3).hex()}"
    with pg_server.admin() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'r' IN ROLE payments_readonly, payments_runner")
                      .format(sql.Identifier(role)))
    try:
        authorised(stack, "ROLE-1")
        url = f"postgresql://{role}:r@{db_url.split('@', 1)[1]}"
        result = stack.payments("capture", "ROLE-1", PAYMENTS_DATABASE_URL=url)
        line = one_line(result)
        assert "42501" in line and "payments_operator" in line
        assert stack.status("ROLE-1") == "pending"
    finally:
        with pg_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                          (role,))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


# -- a cancel racing a settlement ----------------------------------------------------------------------


def test_a_cancel_racing_a_settlement_ends_consistent(stack: Stack) -> None:
    """20 orders at once: Midtrans settles each while an operator cancels it.
    Whichever wins at Midtrans, the order ends as Midtrans says (settlement ->
    paid with its tickets, cancel -> failed and released) and the books are right."""
    orders = [f"RACE-{i}" for i in range(20)]
    for number in orders:
        stack.order(number)
        stack.control("/transactions", {"order_id": number, "gross_amount": 150000})
    eventually(lambda: all(ledger(stack, n) == [("pending", 10)] for n in orders), timeout=30,
               what="the pending notifications")

    async def race() -> list[actions.Outcome]:
        client = MidtransClient(stack.sim, SERVER_KEY, timeout=5, retries=1)
        outcomes = []
        try:
            async with httpx.AsyncClient(timeout=10) as control, await actions.connect(stack.db_url) as conn:
                async def settle(number: str, head_start: float) -> None:
                    # the cancel gets a head start of 0 to 95 ms, so the settlement lands
                    # before its Status API call, between that and the cancel call, or after
                    await asyncio.sleep(head_start)
                    response = await control.post(f"{stack.sim}/_sim/transactions/{number}/settle", json={})
                    assert response.status_code in (200, 409), response.text  # 409: cancelled first

                for i, number in enumerate(orders):   # 20 races, one after the other
                    _, outcome = await asyncio.gather(settle(number, i * 0.005),
                                                      actions.perform(conn, client, "cancel", number))
                    outcomes.append(outcome)
        finally:
            await client.aclose()
        return outcomes

    outcomes = asyncio.run(race())
    assert len(outcomes) == 20
    final = {n: sim_state(stack, n)[0] for n in orders}
    assert set(final.values()) <= {"settlement", "cancel"}
    for number, outcome in zip(orders, outcomes, strict=True):
        expected = "paid" if final[number] == "settlement" else "failed"
        if final[number] == "cancel":
            assert outcome.exit_code == 0, outcome.line
        else:
            assert outcome.exit_code == 1 and "Midtrans refused: 412" in outcome.line, outcome.line
        eventually(lambda n=number, s=expected: stack.status(n) == s, timeout=30,
                   what=f"{number} to be {expected} as Midtrans says ({final[number]})")
        assert stack.tickets(number) == (2 if expected == "paid" else 0)
    assert stack.invariants() == []
    paid = sum(1 for s in final.values() if s == "settlement")
    assert stack.db.execute("SELECT reserved, sold FROM payments.ticket_slots").fetchone() == (0, 2 * paid)
