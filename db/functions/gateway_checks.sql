-- payments.orders_due_for_sync(min_age, recheck_after, max_rows)
-- Pending orders the sync should ask Midtrans about: older than min_age, and
-- never checked, checked longer than recheck_after ago, or past expires_at.
-- Least recently checked first.
CREATE OR REPLACE FUNCTION payments.orders_due_for_sync(
    min_age interval DEFAULT '2 minutes',
    recheck_after interval DEFAULT '5 minutes',
    max_rows integer DEFAULT 200
)
RETURNS TABLE (order_number text, expires_at timestamptz, gateway_checked_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM payments.require_row_limit(orders_due_for_sync.max_rows, 'max_rows');
    RETURN QUERY
    SELECT o.order_number, o.expires_at, o.gateway_checked_at
      FROM payments.orders AS o
     WHERE o.status = 'pending'
       AND o.created_at <= now() - orders_due_for_sync.min_age
       AND (o.gateway_checked_at IS NULL
            OR o.gateway_checked_at <= now() - orders_due_for_sync.recheck_after
            OR (o.expires_at <= now() AND o.gateway_checked_at <= o.expires_at))
     ORDER BY o.gateway_checked_at NULLS FIRST, o.created_at
     LIMIT orders_due_for_sync.max_rows;
END
$$;

COMMENT ON FUNCTION payments.orders_due_for_sync(interval, interval, integer) IS
    'Pending orders the sync should ask the Midtrans Status API about, least recently checked first';

-- payments.orders_past_expiry(expiry_grace, max_rows)
-- DESIGN §7 check 5: pending orders past expires_at + grace. They need
-- Midtrans' answer (and possibly an expire call) before anything is released.
CREATE OR REPLACE FUNCTION payments.orders_past_expiry(
    expiry_grace interval DEFAULT '15 minutes',
    max_rows integer DEFAULT 200
)
RETURNS TABLE (order_number text, expires_at timestamptz, needs_review boolean)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM payments.require_row_limit(orders_past_expiry.max_rows, 'max_rows');
    RETURN QUERY
    SELECT o.order_number, o.expires_at, o.needs_review
      FROM payments.orders AS o
     WHERE o.status = 'pending' AND o.expires_at < now() - orders_past_expiry.expiry_grace
     ORDER BY o.expires_at
     LIMIT orders_past_expiry.max_rows;
END
$$;

COMMENT ON FUNCTION payments.orders_past_expiry(interval, integer) IS
    'DESIGN §7 check 5: pending orders past expires_at + grace, oldest first';

-- payments.apply_status_not_found(order_number, source, expiry_grace, run_id)
-- Midtrans answered "404 Transaction doesn't exist" for an order: the customer
-- never started a payment. Records the check; when the order is pending and
-- past expires_at + expiry_grace (NULL = never), expires it through
-- apply_gateway_status so the release is logged like any other.
CREATE OR REPLACE FUNCTION payments.apply_status_not_found(
    order_number text,
    source text,
    expiry_grace interval DEFAULT NULL,
    run_id bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
BEGIN
    PERFORM payments.require_source(apply_status_not_found.source);
    o := payments.lock_order(apply_status_not_found.order_number);
    IF o.status = 'pending' AND apply_status_not_found.expiry_grace IS NOT NULL
       AND o.expires_at < now() - apply_status_not_found.expiry_grace THEN
        -- a local decision: Midtrans sent no status, so none is claimed
        RETURN payments.apply_gateway_status(o.order_number, 'expire', NULL, NULL, NULL, NULL,
            apply_status_not_found.source,
            jsonb_build_object('reason', 'no transaction at Midtrans past expires_at + grace',
                               'expires_at', o.expires_at),
            apply_status_not_found.run_id, 'local');
    END IF;
    UPDATE payments.orders SET gateway_checked_at = now() WHERE id = o.id;
    PERFORM payments.log_event(apply_status_not_found.source, 'status_not_found', 'noop',
        o.order_number, jsonb_build_object('status', o.status, 'expires_at', o.expires_at),
        NULL, NULL, NULL, '404', apply_status_not_found.run_id);
    RETURN jsonb_build_object('order_number', o.order_number, 'kind', o.kind,
                              'previous_status', o.status, 'new_status', o.status,
                              'decision', 'not_found', 'effects', '[]'::jsonb,
                              'needs_review', o.needs_review, 'review_reason', o.review_reason);
END
$$;

COMMENT ON FUNCTION payments.apply_status_not_found(text, text, interval, bigint) IS
    'Midtrans has no transaction for the order: record the check, expire it when past expiry + grace';

-- payments.last_runs()
-- The latest finished run of each kind and the latest successful one, for
-- metrics and alerts (the runner role cannot read `runs` directly).
CREATE OR REPLACE FUNCTION payments.last_runs()
RETURNS TABLE (kind text, run_id bigint, finished_at timestamptz, age_seconds double precision,
               totals jsonb, error text, last_ok_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
    SELECT k.kind, r.id, r.finished_at, extract(epoch FROM now() - r.finished_at)::double precision,
           r.totals, r.error,
           (SELECT max(ok.finished_at) FROM payments.runs AS ok
             WHERE ok.kind = k.kind AND ok.error IS NULL AND ok.finished_at IS NOT NULL)
      FROM (VALUES ('sync'), ('reconcile')) AS k (kind)
      LEFT JOIN LATERAL (SELECT * FROM payments.runs AS x
                          WHERE x.kind = k.kind AND x.finished_at IS NOT NULL
                          ORDER BY x.started_at DESC LIMIT 1) AS r ON true
$$;

COMMENT ON FUNCTION payments.last_runs() IS
    'Latest finished sync / reconcile run with totals, and when the last successful one finished';
