-- payments.alerts()
-- DESIGN §8: every monitored figure with its observed value, the threshold
-- from alert_thresholds and whether it fires (observed > threshold; a
-- schedule that never ran successfully fires too). Cheap: each figure reads a
-- partial or time index.
CREATE OR REPLACE FUNCTION payments.alerts()
RETURNS TABLE (name text, observed numeric, threshold numeric, "window" interval, firing boolean,
               description text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
    WITH t AS (SELECT * FROM payments.alert_thresholds),
    observed (name, value) AS (
        SELECT 'signature_failures',
               (SELECT count(*) FROM payments.webhook_logs AS l
                 WHERE l.event_type = 'signature_invalid'
                   AND l.created_at > now() - (SELECT t."window" FROM t WHERE t.name = 'signature_failures'))::numeric
        UNION ALL
        SELECT 'mismatches_found',
               (SELECT coalesce(sum((r.totals ->> 'mismatches_found')::numeric), 0) FROM payments.runs AS r
                 WHERE r.kind = 'reconcile'
                   AND r.started_at > now() - (SELECT t."window" FROM t WHERE t.name = 'mismatches_found'))
        UNION ALL
        SELECT 'repairs',
               (SELECT count(*) FROM payments.webhook_logs AS l
                 WHERE l.event_type LIKE 'reconcile\_%' AND l.event_type NOT IN ('reconcile_run', 'reconcile_error')
                   AND l.outcome IN ('repaired', 'flagged')
                   AND l.created_at > now() - (SELECT t."window" FROM t WHERE t.name = 'repairs'))::numeric
        UNION ALL
        SELECT 'oldest_unfulfilled_paid_seconds',
               coalesce((SELECT extract(epoch FROM now() - min(o.paid_at)) FROM payments.orders AS o
                          WHERE o.status = 'paid'
                            AND ((o.kind = 'ticket' AND (o.tickets_issued_at IS NULL
                                                         OR o.capacity_released_at IS NOT NULL))
                              OR (o.kind = 'product' AND (o.pickup_code IS NULL
                                                          OR o.stock_confirmed_at IS NULL
                                                          OR o.stock_released_at IS NOT NULL)))), 0)::numeric
        UNION ALL
        SELECT 'open_reviews',
               (SELECT count(*) FROM payments.orders AS o WHERE o.needs_review)::numeric
        UNION ALL
        SELECT 'stale_pending',
               (SELECT count(*) FROM payments.orders AS o
                 WHERE o.status = 'pending'
                   AND o.expires_at < now() - (SELECT t."window" FROM t WHERE t.name = 'stale_pending'))::numeric
        UNION ALL
        SELECT 'last_sync_age_seconds',
               (SELECT extract(epoch FROM now() - max(r.finished_at)) FROM payments.runs AS r
                 WHERE r.kind = 'sync' AND r.error IS NULL AND r.finished_at IS NOT NULL)::numeric
        UNION ALL
        SELECT 'last_reconcile_age_seconds',
               (SELECT extract(epoch FROM now() - max(r.finished_at)) FROM payments.runs AS r
                 WHERE r.kind = 'reconcile' AND r.error IS NULL AND r.finished_at IS NOT NULL)::numeric
    )
    SELECT o.name, round(o.value, 3), t.threshold, t."window",
           coalesce(o.value > t.threshold, true), t.description
      FROM observed AS o
      JOIN t ON t.name = o.name
     ORDER BY o.name
$$;

COMMENT ON FUNCTION payments.alerts() IS
    'DESIGN §8 alerts: name, observed value, threshold, window, firing; NULL observed (never ran) fires';
