"""Bulk data for the benchmarks, loaded as superuser with INSERT ... SELECT generate_series.

Every loader keeps the books consistent: slot / variant counters equal the sums
implied by the orders and every marker matches its order's status, so
``payments.check_invariants()`` and ``payments.find_mismatches()`` return no
rows afterwards (unless a loader is asked to make mismatches on purpose).
"""

from __future__ import annotations

import json
import time

import psycopg

# A settlement notification as Midtrans sends it (fields of a Snap bank transfer);
# the benchmark's webhook_logs.payload rows are this size.
NOTIFICATION_TEMPLATE = {
    "va_numbers": [{"va_number": "12345678901", "bank": "bca"}],
    "transaction_time": "2024-05-01 10:00:00",
    "transaction_status": "settlement",
    "transaction_id": "",
    "status_message": "midtrans payment notification",
    "status_code": "200",
    "signature_key": "",
    "settlement_time": "2024-05-01 10:01:10",
    "payment_type": "bank_transfer",
    "payment_amounts": [],
    "order_id": "",
    "merchant_id": "G123456789",
    "gross_amount": "150000.00",
    "fraud_status": "accept",
    "expiry_time": "2024-05-02 10:00:00",
    "currency": "IDR",
}

ORDER_AMOUNT = "150000.00"   # every pending order below: one ticket at 150,000 IDR
HISTORY_SLOTS = 200
HISTORY_VARIANTS = 100


def notification_payload(order_id: str, transaction_id: str) -> dict:
    return {**NOTIFICATION_TEMPLATE, "order_id": order_id, "transaction_id": transaction_id}


def payload_sql_literal() -> str:
    """The notification as a SQL jsonb literal (for pgbench scripts)."""
    text = json.dumps(notification_payload("BENCH", "BENCH-TX")).replace("'", "''")
    return f"'{text}'::jsonb"


def make_slots(conn: psycopg.Connection, prefix: str, count: int, capacity: int) -> int:
    """``count`` slots ``{prefix}-1..count``; returns the first slot id (ids are consecutive)."""
    # one bulk INSERT, not payments.create_ticket_slot per slot: fixtures make hundreds of slots
    # with consecutive ids at once, and the bench measures orders, not the catalog
    with conn.transaction():
        first = conn.execute(
            "INSERT INTO payments.ticket_slots (code, capacity, starts_at)"
            " SELECT %s || '-' || g, %s, now() + interval '30 days' FROM generate_series(1, %s) AS g"
            " RETURNING id", (prefix, capacity, count)).fetchall()
    ids = [r[0] for r in first]
    assert ids == list(range(ids[0], ids[0] + count)), "slot ids are not consecutive"
    return ids[0]


def make_pending_ticket_orders(conn: psycopg.Connection, prefix: str, count: int, first_slot: int,
                               slots: int) -> None:
    """``count`` pending ticket orders ``{prefix}-1..count``, one ticket each, order g on slot
    ``first_slot + g % slots`` (so consecutive orders use different slots), with the
    slots' ``reserved`` counters raised to match (as create_ticket_order would)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO payments.orders (order_number, kind, gross_amount, expires_at)"
            " SELECT %s || '-' || g, 'ticket', %s::numeric, now() + interval '1 day'"
            "   FROM generate_series(1, %s) AS g", (prefix, ORDER_AMOUNT, count))
        conn.execute(
            "INSERT INTO payments.ticket_order_items (order_id, slot_id, quantity, unit_price)"
            " SELECT o.id, %s + (split_part(o.order_number, '-', 2)::bigint %% %s), 1, %s::numeric"
            "   FROM payments.orders AS o WHERE o.order_number LIKE %s",
            (first_slot, slots, ORDER_AMOUNT, prefix + "-%"))
        conn.execute(
            "UPDATE payments.ticket_slots AS s SET reserved = s.reserved + n.held"
            "  FROM (SELECT i.slot_id, sum(i.quantity) AS held"
            "          FROM payments.ticket_order_items AS i"
            "          JOIN payments.orders AS o ON o.id = i.order_id"
            "         WHERE o.order_number LIKE %s GROUP BY i.slot_id) AS n"
            " WHERE s.id = n.slot_id", (prefix + "-%",))


# one generated order per g: kind / status by g % 20, quantity 1 + g % 3; paid, expired and failed
# orders have the ledger row their status rests on (a settlement, an expire, a cancel)
LOAD_ORDERS = """
INSERT INTO payments.orders (order_number, kind, status, gross_amount, expires_at, paid_at, tickets_issued_at,
    capacity_released_at, pickup_code, stock_confirmed_at, stock_released_at)
SELECT 'RC-' || g, x.kind, x.status, 150000 * x.q,
       CASE WHEN x.status = 'pending' THEN now() + interval '1 day' ELSE now() - interval '1 day' END,
       CASE WHEN x.status = 'paid' THEN now() END,
       CASE WHEN x.kind = 'ticket' AND x.status = 'paid' THEN now() END,
       CASE WHEN x.kind = 'ticket' AND x.status IN ('expired', 'failed') THEN now() END,
       CASE WHEN x.kind = 'product' AND x.status = 'paid' THEN 'BK' || g END,
       CASE WHEN x.kind = 'product' AND x.status = 'paid' THEN now() END,
       CASE WHEN x.kind = 'product' AND x.status = 'expired' THEN now() END
  FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
 CROSS JOIN LATERAL (SELECT CASE WHEN g %% 20 < 14 THEN 'ticket' ELSE 'product' END AS kind,
                            CASE WHEN g %% 20 < 9 THEN 'paid' WHEN g %% 20 < 11 THEN 'pending'
                                 WHEN g %% 20 < 13 THEN 'expired' WHEN g %% 20 < 14 THEN 'failed'
                                 WHEN g %% 20 < 18 THEN 'paid' WHEN g %% 20 < 19 THEN 'pending'
                                 ELSE 'expired' END AS status,
                            (1 + g %% 3)::integer AS q) AS x
"""

# broken orders (they hold their reservation, side-effects missing): kind / status by g % 4; their
# status rests on the ledger (a settlement, an expire), only the goods are missing
LOAD_BROKEN = """
INSERT INTO payments.orders (order_number, kind, status, gross_amount, expires_at, paid_at)
SELECT 'RB-' || g, CASE WHEN g %% 4 < 2 THEN 'ticket' ELSE 'product' END,
       CASE WHEN g %% 2 = 0 THEN 'paid' ELSE 'expired' END, 150000 * (1 + g %% 3),
       now() - interval '1 hour',
       CASE WHEN g %% 2 = 0 THEN now() END
  FROM generate_series(1, %(n)s::bigint) AS g
"""

# the ledger row each non-pending order's status rests on
LEDGER = """
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount,
                                           seen_paid)
SELECT o.id, 'TX-' || o.order_number,
       CASE o.status WHEN 'paid' THEN 'settlement' WHEN 'expired' THEN 'expire' ELSE 'cancel' END,
       CASE o.status WHEN 'paid' THEN 22 WHEN 'expired' THEN 32 ELSE 31 END,
       o.gross_amount, o.status = 'paid'
  FROM payments.orders AS o
 WHERE o.id > %(after)s AND o.status <> 'pending'
"""

ITEMS = """
INSERT INTO payments.{table} (order_id, {ref}, quantity, unit_price, finalized_quantity)
SELECT o.id, %(first)s + split_part(o.order_number, '-', 2)::bigint %% %(count)s,
       1 + split_part(o.order_number, '-', 2)::bigint %% 3, 150000,
       CASE WHEN o.status = 'paid' AND {complete} THEN 1 + split_part(o.order_number, '-', 2)::bigint %% 3
            ELSE 0 END
  FROM payments.orders AS o
 WHERE o.id > %(after)s AND o.kind = %(kind)s
"""

TICKETS = """
INSERT INTO payments.tickets (order_item_id, seq, code)
SELECT i.id, s, 'BT-' || i.id || '-' || s
  FROM payments.ticket_order_items AS i
  JOIN payments.orders AS o ON o.id = i.order_id
 CROSS JOIN LATERAL generate_series(1, i.quantity) AS s
 WHERE o.id > %(after)s AND o.status = 'paid' AND o.tickets_issued_at IS NOT NULL
"""

RECOUNT = """
UPDATE payments.ticket_slots AS s SET reserved = coalesce(e.reserved, 0), sold = coalesce(e.sold, 0)
  FROM payments.ticket_slots AS t
  LEFT JOIN (SELECT i.slot_id,
                    sum(CASE WHEN o.capacity_released_at IS NULL THEN i.quantity - i.finalized_quantity
                             ELSE 0 END) AS reserved,
                    sum(i.finalized_quantity) AS sold
               FROM payments.ticket_order_items AS i JOIN payments.orders AS o ON o.id = i.order_id
              GROUP BY i.slot_id) AS e ON e.slot_id = t.id
 WHERE s.id = t.id;
UPDATE payments.product_variants AS v SET reserved_stock = coalesce(e.reserved, 0), sold = coalesce(e.sold, 0)
  FROM payments.product_variants AS w
  LEFT JOIN (SELECT i.variant_id,
                    sum(CASE WHEN o.stock_released_at IS NULL THEN i.quantity - i.finalized_quantity
                             ELSE 0 END) AS reserved,
                    sum(i.finalized_quantity) AS sold
               FROM payments.product_order_items AS i JOIN payments.orders AS o ON o.id = i.order_id
              GROUP BY i.variant_id) AS e ON e.variant_id = w.id
 WHERE v.id = w.id;
"""


def add_items(conn: psycopg.Connection, after: int, first_slot: int, first_variant: int) -> None:
    """Items (and the tickets of paid ticket orders) for every order with id > after."""
    conn.execute(ITEMS.format(table="ticket_order_items", ref="slot_id",
                              complete="o.tickets_issued_at IS NOT NULL"),
                 {"first": first_slot, "count": HISTORY_SLOTS, "after": after, "kind": "ticket"})
    conn.execute(ITEMS.format(table="product_order_items", ref="variant_id",
                              complete="o.stock_confirmed_at IS NOT NULL"),
                 {"first": first_variant, "count": HISTORY_VARIANTS, "after": after, "kind": "product"})
    conn.execute(TICKETS, {"after": after})
    conn.execute(LEDGER, {"after": after})
    conn.execute(RECOUNT)


def last_order_id(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM payments.orders").fetchone()[0]


def load_orders(conn: psycopg.Connection, lo: int, hi: int, first_slot: int, first_variant: int) -> float:
    started = time.perf_counter()
    with conn.transaction():
        after = last_order_id(conn)
        conn.execute(LOAD_ORDERS, {"lo": lo, "hi": hi})
        add_items(conn, after, first_slot, first_variant)
    analyze(conn)
    return time.perf_counter() - started


def make_catalogue(conn: psycopg.Connection, prefix: str) -> tuple[int, int]:
    """Slots and variants with room for a million orders; returns the first slot and variant ids."""
    first_slot = make_slots(conn, prefix, HISTORY_SLOTS, 100_000_000)
    first_variant = conn.execute(  # bulk, like make_slots
        "INSERT INTO payments.product_variants (sku, stock)"
        " SELECT %s || '-SKU-' || g, 100000000 FROM generate_series(1, %s) AS g RETURNING id",
        (prefix, HISTORY_VARIANTS)).fetchall()[0][0]
    return first_slot, first_variant


def load_history(conn: psycopg.Connection, orders: int) -> float:
    """A database with a past: ``orders`` settled / expired / pending orders (``RC-*``) with their
    tickets, so tables and statistics look like a shop's in steady state, not like empty tables."""
    first_slot, first_variant = make_catalogue(conn, "HIST")
    return load_orders(conn, 1, orders, first_slot, first_variant)


def analyze(conn: psycopg.Connection, vacuum: bool = True) -> None:
    """What autovacuum would have done on a steady-state database."""
    for table in ("orders", "ticket_order_items", "product_order_items", "tickets", "ticket_slots",
                  "product_variants", "gateway_transactions", "webhook_logs", "runs"):
        conn.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} payments.{table}")
