"""An independent model of the money core, for the property tests.

Written from the brief (docs / notes on issue 10), not from the SQL: nothing
here calls a payments function. Two halves:

* a *prediction* from Midtrans' facts: given each transaction's legal path
  (the statuses it went through, in Midtrans' order) and its amount, what the
  order must end as -- standing money, status, open reviews, what it holds;
* *audits* of a database, read from plain tables with plain SELECTs and judged
  in Python: money and goods agree (or a review is open), released orders
  hold nothing, counters equal what the orders imply.

Stages are the numbers the ledger stores (payments.gateway_transactions.stage);
the oracle only uses them to read ledger rows back, never to decide an order
from SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

# -- Midtrans' statuses ---------------------------------------------------------------------------

# the name the oracle uses for a (transaction_status, fraud_status) pair, and the stage number
# the ledger stores for it (the brief: 10 pending .. 43 chargeback)
STAGE = {"pending": 10, "authorize": 11, "capture_challenge": 20, "capture_accept": 21, "settlement": 22,
         "deny": 30, "cancel": 31, "expire": 32, "failure": 33, "partial_refund": 40, "refund": 41,
         "partial_chargeback": 42, "chargeback": 43}
STAGE_NAME = {number: name for name, number in STAGE.items()}

# a completed payment covers its amount; a partial refund or a chargeback does not take the goods
# back by itself (a review is opened); a refund covers nothing
COVERING = frozenset({"capture_accept", "settlement", "partial_refund", "partial_chargeback", "chargeback"})
# these close the payment window of the whole order (a deny / failure does not: the customer may pay
# again while it is open)
CLOSING = frozenset({"cancel", "expire", "refund"})
# an attempt Midtrans may still complete
LIVE = frozenset({"pending", "authorize", "capture_challenge"})
# states in which the transaction had been paid
PAID_STATES = frozenset({"capture_accept", "settlement"})
RELEASED = frozenset({"failed", "expired", "refunded"})


def state_name(transaction_status: str, fraud_status: str | None) -> str:
    """Midtrans' status pair as the oracle's state name."""
    ts = transaction_status.strip().lower()
    fs = (fraud_status or "accept").strip().lower() or "accept"
    if ts in ("capture", "settlement"):
        if fs == "challenge":
            return "capture_challenge"
        if fs == "deny":
            return "deny"
        return "capture_accept" if ts == "capture" else "settlement"
    return ts


# -- prediction -----------------------------------------------------------------------------------


@dataclass
class TxFacts:
    """What Midtrans did with one transaction: the states it went through, in order."""

    transaction_id: str
    gross_amount: Decimal
    path: list[str]
    refund_amount: Decimal = Decimal(0)    # cumulative, from the last refund event

    @property
    def final(self) -> str:
        return self.path[-1]

    @property
    def was_paid(self) -> bool:
        return any(state in PAID_STATES for state in self.path)

    @property
    def covers(self) -> Decimal:
        return self.gross_amount if self.final in COVERING else Decimal(0)

    def upto(self, step: int) -> TxFacts:
        """The transaction as it stood after ``step`` (its furthest state heard of then)."""
        return TxFacts(self.transaction_id, self.gross_amount, self.path[:step + 1])


@dataclass
class Expected:
    standing: Decimal
    covered: bool
    status: str
    reviews: frozenset[tuple[str, str]]      # (reason, subject)
    ledger: frozenset[tuple[str, int, Decimal, bool]] = field(default_factory=frozenset)

    @property
    def goods_out(self) -> bool:
        return self.status == "paid"

    @property
    def holding(self) -> str:
        """'sold', 'reserved' or 'nothing' (capacity is ample in the prediction)."""
        return {"paid": "sold", "pending": "reserved"}.get(self.status, "nothing")


def window_closed(transactions: Iterable[TxFacts], closed_locally: bool = False) -> bool:
    return closed_locally or any(t.final in CLOSING for t in transactions)


def has_live_attempt(transactions: Iterable[TxFacts]) -> bool:
    return any(t.final in LIVE for t in transactions)


def expected_status(price: Decimal, transactions: Sequence[TxFacts], closed_locally: bool = False) -> str:
    """paid when the standing payments cover the price, pending while the window is open, else how
    it closed: refunded (a refund), expired (an expire, or closed locally), failed (a cancel)."""
    standing = sum((t.covers for t in transactions), Decimal(0))
    if standing >= price:
        return "paid"
    if not window_closed(transactions, closed_locally):
        return "pending"
    finals = {t.final for t in transactions}
    if "refund" in finals:
        return "refunded"
    if "expire" in finals or closed_locally:
        return "expired"
    return "failed"


def expected_reviews(price: Decimal, transactions: Sequence[TxFacts]) -> frozenset[tuple[str, str]]:
    """The reviews that stay open, from Midtrans' facts: tracking ones while their state lasts
    (challenge, partial refund, partial chargeback, the set of paid transactions), the others once
    their fact happened."""
    reviews: set[tuple[str, str]] = set()
    # a challenge, partial refund or partial chargeback while it lasts; a chargeback (final) for good
    by_final_state = {"capture_challenge": "fraud_challenge", "partial_refund": "partial_refund",
                      "partial_chargeback": "partial_chargeback", "chargeback": "chargeback"}
    for t in transactions:
        if t.final in by_final_state:
            reviews.add((by_final_state[t.final], t.transaction_id))
        if t.was_paid and t.gross_amount != price:
            reviews.add(("amount_mismatch", t.transaction_id))
        if t.was_paid and t.final in ("deny", "failure"):
            reviews.add(("payment_reversed", t.transaction_id))
    paid = sorted(t.transaction_id for t in transactions if t.was_paid)
    if len(paid) > 1:
        # the subject lists the paid transactions (a further payment supersedes the review)
        reviews.add(("duplicate_payment", ",".join(paid)))
    return frozenset(reviews)


def closes_locally(price: Decimal, transactions: Sequence[TxFacts], close: str) -> bool:
    """Does closing the window locally (``close``: none | expire | expire_even_if_live) act on an
    order with these transactions? Only on one still pending, and without even_if_live only when
    no attempt is live."""
    return (close != "none" and expected_status(price, transactions) == "pending"
            and (close == "expire_even_if_live" or not has_live_attempt(transactions)))


def predict(price: Decimal, transactions: Sequence[TxFacts], close: str = "none",
            at_close: Sequence[TxFacts] | None = None) -> Expected:
    """The final state of an order once every event arrived (in any order). ``close`` closes its
    window locally once the transactions stood as ``at_close`` (default: at the end)."""
    closed_locally = closes_locally(price, transactions if at_close is None else at_close, close)
    status = expected_status(price, transactions, closed_locally)
    standing = sum((t.covers for t in transactions), Decimal(0))
    ledger = frozenset((t.transaction_id, STAGE[t.final], t.refund_amount, t.was_paid) for t in transactions)
    return Expected(standing, standing >= price, status, expected_reviews(price, transactions), ledger)


# -- audits of a database -------------------------------------------------------------------------


@dataclass
class OrderRow:
    order_number: str
    kind: str
    status: str
    price: Decimal
    accepted_amount: Decimal | None
    refunded_manually: bool
    expired_locally: bool
    needs_review: bool
    released: bool            # capacity_released_at / stock_released_at
    fulfilled_marker: bool    # tickets_issued_at / stock_confirmed_at
    pickup_code: bool
    quantity: int
    finalized: int
    active_tickets: int
    items: list[tuple[str, int, int, int]]             # (resource code, quantity, finalized, active)
    ledger: list[tuple[str, int, Decimal, Decimal, bool]]   # (tx, stage, gross, refund_amount, seen_paid)
    open_reviews: set[tuple[str, str]]

    @property
    def standing(self) -> Decimal:
        return sum((gross for _, stage, gross, _, _ in self.ledger
                    if STAGE_NAME.get(stage) in COVERING), Decimal(0))

    @property
    def covered(self) -> bool:
        return not self.refunded_manually and self.standing >= (self.accepted_amount or self.price)

    @property
    def goods_out(self) -> bool:
        """Every item out: all tickets active and finalized / stock confirmed with a pickup code."""
        if self.kind == "ticket":
            return all(active == quantity == finalized for _, quantity, finalized, active in self.items)
        return self.pickup_code and all(finalized == quantity for _, quantity, finalized, _ in self.items)

    @property
    def any_goods_out(self) -> bool:
        return self.pickup_code or self.active_tickets > 0 or self.finalized > 0

    @property
    def holding(self) -> str:
        """What the order must hold, from its status and release marker only: its reservation while
        pending, sold once paid (unless released and not re-acquired: a shortfall), else nothing."""
        if self.status == "pending":
            return "reserved"
        if self.status == "paid" and not self.released:
            return "sold"
        return "nothing"


def read_orders(conn: psycopg.Connection, numbers: Iterable[str] | None = None) -> dict[str, OrderRow]:
    """Every order (or the given ones) as plain facts from the tables."""
    wanted = None if numbers is None else list(numbers)
    rows = conn.execute(
        "SELECT o.id, o.order_number, o.kind, o.status, o.gross_amount, o.accepted_amount,"
        "       o.refunded_manually_at IS NOT NULL, o.expired_locally_at IS NOT NULL, o.needs_review,"
        "       coalesce(o.capacity_released_at, o.stock_released_at) IS NOT NULL,"
        "       coalesce(o.tickets_issued_at, o.stock_confirmed_at) IS NOT NULL, o.pickup_code IS NOT NULL"
        "  FROM payments.orders o WHERE %(all)s OR o.order_number = ANY(%(numbers)s) ORDER BY o.id",
        {"all": wanted is None, "numbers": wanted or []}).fetchall()
    ids = [r[0] for r in rows]
    items: dict[int, list] = {i: [] for i in ids}
    for order_id, code, quantity, finalized, active in conn.execute(
            "SELECT i.order_id, s.code, i.quantity, i.finalized_quantity,"
            "       (SELECT count(*) FROM payments.tickets t"
            "         WHERE t.order_item_id = i.id AND t.status = 'active')"
            "  FROM payments.ticket_order_items i JOIN payments.ticket_slots s ON s.id = i.slot_id"
            " WHERE i.order_id = ANY(%(ids)s)"
            " UNION ALL "
            "SELECT i.order_id, v.sku, i.quantity, i.finalized_quantity, 0"
            "  FROM payments.product_order_items i JOIN payments.product_variants v ON v.id = i.variant_id"
            " WHERE i.order_id = ANY(%(ids)s)", {"ids": ids}):
        items[order_id].append((code, quantity, finalized, active))
    ledger: dict[int, list] = {i: [] for i in ids}
    for order_id, tx, stage, gross, refunded, seen_paid in conn.execute(
            "SELECT order_id, transaction_id, stage, gross_amount, refund_amount, seen_paid"
            "  FROM payments.gateway_transactions WHERE order_id = ANY(%(ids)s)", {"ids": ids}):
        ledger[order_id].append((tx, stage, gross, refunded, seen_paid))
    reviews: dict[int, set] = {i: set() for i in ids}
    for order_id, reason, subject in conn.execute(
            "SELECT order_id, reason, subject FROM payments.order_reviews"
            " WHERE order_id = ANY(%(ids)s) AND resolved_at IS NULL", {"ids": ids}):
        reviews[order_id].add((reason, subject))
    result = {}
    for (order_id, number, kind, status, price, accepted, refunded_manually, expired_locally, flagged,
         released, fulfilled, pickup) in rows:
        its = items[order_id]
        result[number] = OrderRow(
            number, kind, status, price, accepted, refunded_manually, expired_locally, flagged, released,
            fulfilled, pickup, sum(q for _, q, _, _ in its), sum(f for _, _, f, _ in its),
            sum(a for _, _, _, a in its), its, sorted(ledger[order_id]), reviews[order_id])
    return result


def money_goods_problems(orders: dict[str, OrderRow]) -> list[str]:
    """After quiescence: goods are out iff the standing money covers the price, or a review is
    open; no order has only part of its goods out unless a review is open."""
    problems = []
    for number, o in orders.items():
        if o.open_reviews:
            continue
        if o.goods_out != o.covered:
            problems.append(f"{number}: {o.status}, standing {o.standing} of {o.price}"
                            f" ({'covered' if o.covered else 'not covered'}) but goods"
                            f" {'out' if o.goods_out else 'not out'} and no open review; ledger {o.ledger}")
        elif not o.goods_out and o.any_goods_out:
            problems.append(f"{number}: {o.status}, part of its goods out: {o.items},"
                            f" pickup code {o.pickup_code}")
    return problems


def holding_problems(orders: dict[str, OrderRow]) -> list[str]:
    """Released orders hold nothing; pending orders hold their reservation only; paid orders
    that are not short of capacity are fulfilled; needs_review iff a review is open."""
    problems = []
    for number, o in orders.items():
        if o.status in RELEASED and (not o.released or o.any_goods_out):
            problems.append(f"{number}: {o.status} but released={o.released}, items {o.items},"
                            f" pickup code {o.pickup_code}")
        if o.status == "pending" and (o.released or o.any_goods_out):
            problems.append(f"{number}: pending but released={o.released}, items {o.items},"
                            f" pickup code {o.pickup_code}")
        if o.status == "paid" and not o.released and not o.goods_out:
            problems.append(f"{number}: paid, not released, but not fulfilled: {o.items},"
                            f" pickup code {o.pickup_code}")
        if o.status == "paid" and o.released and not o.open_reviews:
            problems.append(f"{number}: paid without its goods (released) and no open review")
        if o.needs_review != bool(o.open_reviews):
            problems.append(f"{number}: needs_review {o.needs_review} but open reviews {o.open_reviews}")
    return problems


def implied_counters(conn: psycopg.Connection,
                     orders: dict[str, OrderRow] | None = None) -> tuple[dict, dict]:
    """(expected, actual) (reserved, sold) per slot / variant; expected from what each order must
    hold (OrderRow.holding: status and release marker), not from finalized_quantity."""
    orders = read_orders(conn) if orders is None else orders
    expected: dict = {}
    actual: dict = {}
    for code, reserved, sold in conn.execute("SELECT code, reserved, sold FROM payments.ticket_slots"):
        actual[("slot", code)] = (reserved, sold)
        expected[("slot", code)] = (0, 0)
    for sku, reserved, sold in conn.execute("SELECT sku, reserved_stock, sold"
                                            "  FROM payments.product_variants"):
        actual[("variant", sku)] = (reserved, sold)
        expected[("variant", sku)] = (0, 0)
    for o in orders.values():
        resource = "slot" if o.kind == "ticket" else "variant"
        for code, quantity, _, _ in o.items:
            reserved, sold = expected[(resource, code)]
            expected[(resource, code)] = (reserved + quantity * (o.holding == "reserved"),
                                          sold + quantity * (o.holding == "sold"))
    return expected, actual
