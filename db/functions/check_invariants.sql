-- payments.check_invariants()
-- DESIGN §9: one row per violation; zero rows means the books are right.
-- A full audit (it scans orders); reconciliation uses find_mismatches instead.
CREATE OR REPLACE FUNCTION payments.check_invariants()
RETURNS TABLE (invariant text, subject text, detail jsonb)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
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
    -- paid ticket order => active tickets per item = quantity, capacity finalized,
    -- unless under review (a late payment that found no capacity is flagged
    -- paid_after_release instead, and may be flagged again, e.g. for a chargeback)
    UNION ALL
    SELECT 'paid_ticket_order_fulfilled', 'order ' || o.order_number,
           jsonb_build_object('item_id', i.id, 'quantity', i.quantity,
                              'finalized_quantity', i.finalized_quantity,
                              'active_tickets', t.active,
                              'capacity_released_at', o.capacity_released_at,
                              'tickets_issued_at', o.tickets_issued_at)
      FROM payments.orders AS o
      JOIN payments.ticket_order_items AS i ON i.order_id = o.id
      CROSS JOIN LATERAL (SELECT count(*) AS active FROM payments.tickets AS x
                           WHERE x.order_item_id = i.id AND x.status = 'active') AS t
     WHERE o.kind = 'ticket' AND o.status = 'paid' AND NOT o.needs_review
       AND (t.active <> i.quantity OR i.finalized_quantity <> i.quantity
            OR o.capacity_released_at IS NOT NULL OR o.tickets_issued_at IS NULL)
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
           jsonb_build_object('status', o.status,
                              'released_at', coalesce(o.capacity_released_at, o.stock_released_at),
                              'finalized_quantity',
                              (SELECT coalesce(sum(i.finalized_quantity), 0)
                                 FROM payments.ticket_order_items AS i WHERE i.order_id = o.id)
                              + (SELECT coalesce(sum(i.finalized_quantity), 0)
                                   FROM payments.product_order_items AS i WHERE i.order_id = o.id))
      FROM payments.orders AS o
     WHERE o.status IN ('failed', 'expired', 'refunded')
       AND (CASE o.kind WHEN 'ticket' THEN o.capacity_released_at ELSE o.stock_released_at END IS NULL
            OR EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0)
            OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0))
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
    -- paid product order => pickup code and stock confirmed, unless under review
    UNION ALL
    SELECT 'paid_product_order_fulfilled', 'order ' || o.order_number,
           jsonb_build_object('pickup_code', o.pickup_code IS NOT NULL,
                              'stock_confirmed_at', o.stock_confirmed_at,
                              'stock_released_at', o.stock_released_at)
      FROM payments.orders AS o
     WHERE o.kind = 'product' AND o.status = 'paid' AND NOT o.needs_review
       AND (o.pickup_code IS NULL OR o.stock_confirmed_at IS NULL OR o.stock_released_at IS NOT NULL
            OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity <> i.quantity))
$$;

COMMENT ON FUNCTION payments.check_invariants() IS
    'DESIGN §9 invariants: one row per violation, zero rows = healthy';
