-- payments.find_mismatches(max_rows, expiry_grace)
-- What reconciliation would do: orders whose `repair` column names a missing
-- side-effect (checks 1-4; check_name is the repair), pending orders past
-- expires_at + grace that need Midtrans' answer (check 5,
-- needs_gateway_status) and counter drift (check 6). Checks 1-5 read partial
-- indexes only; check 6 aggregates all items.
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
    PERFORM payments_private.require_row_limit(find_mismatches.max_rows, 'max_rows');
    RETURN QUERY
    (SELECT o.repair, o.order_number::text, o.kind::text, o.status::text,
            jsonb_build_object('tickets_issued_at', o.tickets_issued_at,
                               'capacity_released_at', o.capacity_released_at,
                               'pickup_code', o.pickup_code IS NOT NULL,
                               'stock_confirmed_at', o.stock_confirmed_at,
                               'stock_released_at', o.stock_released_at)
       FROM payments.orders AS o
      WHERE o.repair IS NOT NULL
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'needs_gateway_status', o.order_number::text, o.kind::text, o.status::text,
            jsonb_build_object('expires_at', o.expires_at,
                               'gateway_checked_at', o.gateway_checked_at)
       FROM payments.orders AS o
      WHERE o.status = 'pending' AND o.expires_at < payments_private.clock() - find_mismatches.expiry_grace
      ORDER BY o.expires_at LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'counter_drift', d.code, d.resource, NULL::text, to_jsonb(d)
       FROM payments.counter_drift() AS d
      LIMIT find_mismatches.max_rows);
END
$$;

COMMENT ON FUNCTION payments.find_mismatches(integer, interval) IS
    'Checks 1-6: one row per order (or counter) needing attention; checks 1-4 are the orders.repair column';
