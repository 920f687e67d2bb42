-- payments.find_mismatches(max_rows, expiry_grace)
-- DESIGN §7: orders whose state and side-effects disagree (checks 1-4), pending
-- orders past expiry that need Midtrans' answer (5) and counter drift (6).
-- Checks 1-5 read partial indexes only; check 6 aggregates all items.
CREATE OR REPLACE FUNCTION payments.find_mismatches(
    max_rows integer DEFAULT 100,
    expiry_grace interval DEFAULT '15 minutes'
)
RETURNS TABLE (check_name text, order_number text, kind text, status text, detail jsonb)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM payments.require_row_limit(find_mismatches.max_rows, 'max_rows');
    RETURN QUERY
    (SELECT 'paid_ticket_unfulfilled'::text, o.order_number, o.kind, o.status,
            jsonb_build_object('tickets_issued_at', o.tickets_issued_at,
                               'capacity_released_at', o.capacity_released_at)
       FROM payments.orders AS o
      WHERE o.kind = 'ticket' AND o.status = 'paid' AND NOT o.needs_review
        AND (o.tickets_issued_at IS NULL OR o.capacity_released_at IS NOT NULL)
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'ticket_capacity_unreleased', o.order_number, o.kind, o.status, '{}'::jsonb
       FROM payments.orders AS o
      WHERE o.kind = 'ticket' AND o.status IN ('failed', 'expired', 'refunded')
        AND o.capacity_released_at IS NULL
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'paid_product_unfulfilled', o.order_number, o.kind, o.status,
            jsonb_build_object('pickup_code', o.pickup_code IS NOT NULL,
                               'stock_confirmed_at', o.stock_confirmed_at,
                               'stock_released_at', o.stock_released_at)
       FROM payments.orders AS o
      WHERE o.kind = 'product' AND o.status = 'paid' AND NOT o.needs_review
        AND (o.pickup_code IS NULL OR o.stock_confirmed_at IS NULL OR o.stock_released_at IS NOT NULL)
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'product_stock_unreleased', o.order_number, o.kind, o.status, '{}'::jsonb
       FROM payments.orders AS o
      WHERE o.kind = 'product' AND o.status IN ('failed', 'expired', 'refunded')
        AND o.stock_released_at IS NULL
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'needs_gateway_status', o.order_number, o.kind, o.status,
            jsonb_build_object('expires_at', o.expires_at,
                               'gateway_checked_at', o.gateway_checked_at)
       FROM payments.orders AS o
      WHERE o.status = 'pending' AND o.expires_at < now() - find_mismatches.expiry_grace
      ORDER BY o.expires_at LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'counter_drift', d.code, d.resource, NULL::text, to_jsonb(d)
       FROM payments.counter_drift() AS d
      LIMIT find_mismatches.max_rows);
END
$$;

COMMENT ON FUNCTION payments.find_mismatches(integer, interval) IS
    'DESIGN §7 checks 1-6: one row per order (or counter) needing attention, up to max_rows per check';
