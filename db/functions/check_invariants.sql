-- payments.check_invariants()
-- One row per violation; zero rows means the books are right. A full audit
-- (it reads every order); reconciliation uses the orders.repair column
-- instead. Money and goods are compared through the ledger: goods are out
-- only where the standing payments cover the price, or a review is open; an
-- order's stored status is the one its ledger derives.
CREATE OR REPLACE FUNCTION payments.check_invariants()
RETURNS TABLE (invariant text, subject text, detail jsonb)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
-- a full scan with a function call per order: JIT compilation would cost
-- more than it saves (about a second measured on 118k orders)
SET jit = off
AS $$
    WITH ledgers AS (   -- every order's ledger in one pass (as ledger_of builds one)
        SELECT t.order_id, jsonb_agg(payments_private.ledger_entry(t) ORDER BY t.transaction_id) AS ledger
          FROM payments.gateway_transactions AS t
         GROUP BY t.order_id
    ), money AS (
        SELECT o.id, o.order_number, o.kind, o.status, o.needs_review, o.repair, o.shortfall_at,
               payments_private.derive(o, coalesce(l.ledger, '[]'::jsonb)) AS d
          FROM payments.orders AS o
          LEFT JOIN ledgers AS l ON l.order_id = o.id
    ), goods AS (
        SELECT m.*, (m.d ->> 'covered')::boolean AS covered,
               EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                        JOIN payments.tickets AS t ON t.order_item_id = i.id AND t.status = 'active'
                        WHERE i.order_id = m.id)
               OR EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                           WHERE i.order_id = m.id AND i.finalized_quantity > 0)
               OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                           WHERE i.order_id = m.id AND i.finalized_quantity > 0)
               OR (SELECT o.pickup_code IS NOT NULL FROM payments.orders AS o WHERE o.id = m.id) AS out
          FROM money AS m
    )
    -- counters within bounds
    SELECT 'counter_bounds', 'slot ' || s.code,
           jsonb_build_object('capacity', s.capacity, 'reserved', s.reserved, 'sold', s.sold)
      FROM payments.ticket_slots AS s
     WHERE s.reserved < 0 OR s.sold < 0 OR s.reserved + s.sold > s.capacity
    UNION ALL
    SELECT 'counter_bounds', 'variant ' || v.sku,
           jsonb_build_object('stock', v.stock, 'reserved_stock', v.reserved_stock, 'sold', v.sold)
      FROM payments.product_variants AS v
     WHERE v.reserved_stock < 0 OR v.sold < 0 OR v.reserved_stock + v.sold > v.stock
    -- counters equal the sums implied by orders
    UNION ALL
    SELECT 'counter_drift', d.resource || ' ' || d.code, to_jsonb(d)
      FROM payments.counter_drift() AS d
    -- the stored status is the one the ledger derives
    UNION ALL
    SELECT 'status_follows_ledger', 'order ' || g.order_number,
           jsonb_build_object('status', g.status, 'derived', g.d ->> 'status', 'standing', g.d -> 'standing')
      FROM goods AS g
     WHERE g.status <> g.d ->> 'status'
    -- goods out only where money covers them, or a review is open
    UNION ALL
    SELECT 'goods_covered_by_money', 'order ' || g.order_number,
           jsonb_build_object('status', g.status, 'standing', g.d -> 'standing')
      FROM goods AS g
     WHERE g.out AND NOT g.covered AND NOT g.needs_review
    -- money that covers the price has its goods out, unless a review is open
    -- (a late payment short of capacity keeps paid_after_release open)
    UNION ALL
    SELECT 'money_has_its_goods', 'order ' || g.order_number,
           jsonb_build_object('status', g.status, 'standing', g.d -> 'standing')
      FROM goods AS g
     WHERE g.covered AND NOT g.needs_review AND g.shortfall_at IS NOT NULL
    -- every side-effect a status calls for is done (the repair column is empty)
    UNION ALL
    SELECT 'side_effects_done', 'order ' || g.order_number,
           jsonb_build_object('status', g.status, 'repair', g.repair)
      FROM goods AS g
     WHERE g.repair IS NOT NULL
    -- paid ticket order => active tickets per item = quantity, capacity finalized
    -- (unless under review: a late payment short of capacity)
    UNION ALL
    SELECT 'paid_ticket_order_fulfilled', 'order ' || o.order_number,
           jsonb_build_object('item_id', i.id, 'quantity', i.quantity,
                              'finalized_quantity', i.finalized_quantity, 'active_tickets', t.active)
      FROM payments.orders AS o
      JOIN payments.ticket_order_items AS i ON i.order_id = o.id
      CROSS JOIN LATERAL (SELECT count(*) AS active FROM payments.tickets AS x
                           WHERE x.order_item_id = i.id AND x.status = 'active') AS t
     WHERE o.kind = 'ticket' AND o.status = 'paid' AND NOT o.needs_review
       AND (t.active <> i.quantity OR i.finalized_quantity <> i.quantity)
    -- not paid => no active tickets
    UNION ALL
    SELECT 'unpaid_order_has_no_tickets', 'order ' || o.order_number,
           jsonb_build_object('status', o.status, 'active_tickets', count(*))
      FROM payments.orders AS o
      JOIN payments.ticket_order_items AS i ON i.order_id = o.id
      JOIN payments.tickets AS t ON t.order_item_id = i.id AND t.status = 'active'
     WHERE o.kind = 'ticket' AND o.status <> 'paid'
     GROUP BY o.order_number, o.status
    -- failed / expired / refunded => holds no capacity or stock
    UNION ALL
    SELECT 'released_order_holds_nothing', 'order ' || o.order_number,
           jsonb_build_object('status', o.status)
      FROM payments.orders AS o
     WHERE o.status IN ('failed', 'expired', 'refunded')
       AND (EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                     WHERE i.order_id = o.id AND i.finalized_quantity > 0)
            OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0)
            OR o.pickup_code IS NOT NULL)
    -- pending => holds its reservation and nothing else
    UNION ALL
    SELECT 'pending_order_holds_reservation', 'order ' || o.order_number,
           jsonb_build_object('capacity_released_at', o.capacity_released_at,
                              'stock_released_at', o.stock_released_at)
      FROM payments.orders AS o
     WHERE o.status = 'pending'
       AND (o.capacity_released_at IS NOT NULL OR o.stock_released_at IS NOT NULL
            OR EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0)
            OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0))
    -- paid product order => every item confirmed, unless under review
    UNION ALL
    SELECT 'paid_product_order_fulfilled', 'order ' || o.order_number,
           jsonb_build_object('pickup_code', o.pickup_code IS NOT NULL, 'stock_confirmed_at', o.stock_confirmed_at)
      FROM payments.orders AS o
     WHERE o.kind = 'product' AND o.status = 'paid' AND NOT o.needs_review
       AND EXISTS (SELECT 1 FROM payments.product_order_items AS i
                    WHERE i.order_id = o.id AND i.finalized_quantity <> i.quantity)
    -- needs_review is true exactly while a review is open
    UNION ALL
    SELECT 'needs_review_matches_reviews', 'order ' || o.order_number,
           jsonb_build_object('needs_review', o.needs_review)
      FROM payments.orders AS o
     WHERE o.needs_review IS DISTINCT FROM EXISTS (SELECT 1 FROM payments.order_reviews AS v
                                                   WHERE v.order_id = o.id AND v.resolved_at IS NULL)
$$;

COMMENT ON FUNCTION payments.check_invariants() IS
    'Invariants (money vs goods through the ledger, counters, markers): one row per violation, zero rows = healthy';
