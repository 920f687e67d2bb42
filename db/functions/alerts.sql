-- payments.alerts()
-- Every monitored figure with its observed value, the threshold from
-- alert_thresholds and whether it fires (observed > threshold; a schedule
-- that never ran successfully fires too). `detail` breaks a figure down (open
-- reviews by reason). Cheap: each figure reads a partial or time index.
DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments.alerts()')) <> 'TABLE(name text, observed numeric, threshold numeric, "window" interval, firing boolean, description text, detail jsonb)' THEN
        DROP FUNCTION payments.alerts();
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION payments.alerts()
RETURNS TABLE (name text, observed numeric, threshold numeric, "window" interval, firing boolean,
               description text, detail jsonb)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
    WITH t AS (SELECT * FROM payments.alert_thresholds),
    observed (name, value, detail) AS (
        SELECT 'signature_failures',
               (SELECT count(*) FROM payments.webhook_logs AS l
                 WHERE l.event_type = 'signature_invalid'
                   AND l.created_at > payments_private.clock() - (SELECT t."window" FROM t WHERE t.name = 'signature_failures'))::numeric,
               NULL::jsonb
        UNION ALL
        SELECT 'mismatches_found',
               (SELECT coalesce(sum((r.totals ->> 'mismatches_found')::integer), 0) FROM payments.runs AS r
                 WHERE r.kind = 'reconcile'
                   AND r.started_at > payments_private.clock() - (SELECT t."window" FROM t WHERE t.name = 'mismatches_found'))::numeric,
               NULL
        UNION ALL
        SELECT 'repairs',
               (SELECT count(*) FROM payments.webhook_logs AS l
                 WHERE l.event_type LIKE 'reconcile\_%' AND l.event_type NOT IN ('reconcile_run', 'reconcile_error')
                   AND l.outcome IN ('repaired', 'corrected', 'flagged')
                   AND l.created_at > payments_private.clock() - (SELECT t."window" FROM t WHERE t.name = 'repairs'))::numeric,
               NULL
        UNION ALL
        -- a paid order whose goods are not out: a repair is due, or it is short of capacity / stock
        SELECT 'oldest_unfulfilled_paid_seconds',
               coalesce(extract(epoch FROM payments_private.clock() - least(
                   (SELECT min(o.paid_at) FROM payments.orders AS o
                     WHERE o.repair IN ('fix_ticket_issued', 'fix_pickup_code')),
                   (SELECT min(o.paid_at) FROM payments.orders AS o
                     WHERE o.shortfall_at IS NOT NULL AND o.status = 'paid'))), 0)::numeric,
               NULL
        UNION ALL
        SELECT 'open_reviews',
               (SELECT count(*) FROM payments.order_reviews AS v WHERE v.resolved_at IS NULL)::numeric,
               (SELECT jsonb_object_agg(x.reason, x.n) FROM (
                    SELECT v.reason, count(*) AS n FROM payments.order_reviews AS v
                     WHERE v.resolved_at IS NULL GROUP BY v.reason) AS x)
        UNION ALL
        SELECT 'stale_pending',
               (SELECT count(*) FROM payments.orders AS o
                 WHERE o.status = 'pending'
                   AND o.expires_at < payments_private.clock() - (SELECT t."window" FROM t WHERE t.name = 'stale_pending'))::numeric,
               NULL
        UNION ALL
        SELECT 'last_sync_age_seconds',
               (SELECT extract(epoch FROM payments_private.clock() - max(r.finished_at)) FROM payments.runs AS r
                 WHERE r.kind = 'sync' AND r.ok)::numeric,
               NULL
        UNION ALL
        SELECT 'last_reconcile_age_seconds',
               (SELECT extract(epoch FROM payments_private.clock() - max(r.finished_at)) FROM payments.runs AS r
                 WHERE r.kind = 'reconcile' AND r.ok)::numeric,
               NULL
    )
    SELECT o.name, round(o.value, 3), t.threshold, t."window",
           coalesce(o.value > t.threshold, true), t.description, o.detail
      FROM observed AS o
      JOIN t ON t.name = o.name
     ORDER BY o.name
$$;

COMMENT ON FUNCTION payments.alerts() IS
    'Alerts: name, observed value, threshold, window, firing, description, detail; NULL observed (never ran) fires';
