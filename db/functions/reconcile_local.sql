-- payments.reconcile_local(batch_size, source, run_id)
-- DESIGN §7 checks 1-4, no network: re-runs the same side-effect function for
-- each order that needs it (at most batch_size orders per call), logs every repair
-- with its event_type and records the totals in `runs`. Candidates are locked
-- FOR UPDATE SKIP LOCKED, so concurrent reconcilers never repair the same order
-- and never wait on a webhook in flight (it is picked up by the next run).
CREATE OR REPLACE FUNCTION payments.reconcile_local(
    batch_size integer DEFAULT 500,
    source text DEFAULT 'reconcile',
    run_id bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_run bigint;
    r record;
    v_totals jsonb;
    v_counts jsonb := jsonb_build_object(
        'reconcile_fix_ticket_issued', 0, 'reconcile_release_capacity', 0,
        'reconcile_fix_pickup_code', 0, 'reconcile_release_stock', 0);
    v_outcome text;
    v_repaired integer := 0;
    v_flagged integer := 0;
    v_errors integer := 0;
    v_found integer := 0;
    v_pending_due integer;
BEGIN
    PERFORM payments.require_row_limit(reconcile_local.batch_size, 'batch_size');
    IF reconcile_local.source IS NULL OR reconcile_local.source NOT IN ('reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'source must be reconcile, cron or manual, got %',
            quote_nullable(reconcile_local.source) USING ERRCODE = 'PM009';
    END IF;
    v_run := coalesce(reconcile_local.run_id, payments.start_run('reconcile', reconcile_local.source));

    -- one query per check, each matching its partial index exactly (an OR of the
    -- four predicates is estimated at half the table and walks orders_pkey)
    FOR r IN
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_fix_ticket_issued'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'ticket' AND o.status = 'paid' AND NOT o.needs_review
                   AND (o.tickets_issued_at IS NULL OR o.capacity_released_at IS NOT NULL)
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
        UNION ALL
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_release_capacity'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'ticket' AND o.status IN ('failed', 'expired', 'refunded')
                   AND o.capacity_released_at IS NULL
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
        UNION ALL
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_fix_pickup_code'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'product' AND o.status = 'paid' AND NOT o.needs_review
                   AND (o.pickup_code IS NULL OR o.stock_confirmed_at IS NULL
                        OR o.stock_released_at IS NOT NULL)
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
        UNION ALL
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_release_stock'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'product' AND o.status IN ('failed', 'expired', 'refunded')
                   AND o.stock_released_at IS NULL
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
         LIMIT reconcile_local.batch_size
    LOOP
        v_found := v_found + 1;
        v_outcome := payments.reconcile_repair(r.order_number, r.event_type, reconcile_local.source, v_run);
        IF v_outcome = 'repaired' THEN
            v_repaired := v_repaired + 1;
            v_counts := jsonb_set(v_counts, ARRAY[r.event_type], to_jsonb((v_counts ->> r.event_type)::integer + 1));
        ELSIF v_outcome = 'flagged' THEN
            v_flagged := v_flagged + 1;
        ELSE
            v_errors := v_errors + 1;
        END IF;
    END LOOP;

    -- check 5 is the runner's (it needs Midtrans); count what waits for it
    SELECT count(*) INTO v_pending_due
      FROM (SELECT 1 FROM payments.orders AS o
             WHERE o.status = 'pending' AND o.expires_at < now()
             ORDER BY o.expires_at   -- walks orders_pending_expires_idx, not the table
             LIMIT reconcile_local.batch_size) AS due;

    v_totals := jsonb_build_object('run_id', v_run, 'mismatches_found', v_found,
                                   'repaired', v_repaired, 'flagged', v_flagged, 'errors', v_errors,
                                   'pending_past_expiry', v_pending_due)
                || v_counts;
    IF reconcile_local.run_id IS NULL THEN
        PERFORM payments.finish_run(v_run, v_totals);
    END IF;
    RETURN v_totals;
END
$$;

COMMENT ON FUNCTION payments.reconcile_local(integer, text, bigint) IS
    'DESIGN §7 checks 1-4: repair in batches (SKIP LOCKED), log each repair, record totals in runs';

-- payments.reconcile_repair(order_number, event_type, source, run_id)
-- Repairs one (locked) order by re-running its side-effect function and logs
-- the repair. A failure is logged as reconcile_error with its SQLSTATE and
-- rolled back to a savepoint, so one broken order never blocks the others.
CREATE OR REPLACE FUNCTION payments.reconcile_repair(
    order_number text, event_type text, source text, run_id bigint
)
RETURNS text
LANGUAGE plpgsql
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_effect jsonb;
    v_outcome text;
    v_state text;
    v_message text;
BEGIN
    BEGIN
        v_effect := CASE reconcile_repair.event_type
            WHEN 'reconcile_fix_ticket_issued' THEN payments.apply_ticket_payment(reconcile_repair.order_number)
            WHEN 'reconcile_release_capacity' THEN payments.release_ticket_capacity(reconcile_repair.order_number)
            WHEN 'reconcile_fix_pickup_code' THEN payments.apply_product_payment(reconcile_repair.order_number)
            WHEN 'reconcile_release_stock' THEN payments.release_product_stock(reconcile_repair.order_number)
        END;
        v_outcome := CASE WHEN v_effect ->> 'effect' = 'review' THEN 'flagged' ELSE 'repaired' END;
        PERFORM payments.log_event(reconcile_repair.source, reconcile_repair.event_type, v_outcome,
                                   reconcile_repair.order_number, v_effect, NULL, NULL, NULL, NULL,
                                   reconcile_repair.run_id);
        RETURN v_outcome;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
    END;
    PERFORM payments.log_event(reconcile_repair.source, 'reconcile_error', v_state,
                               reconcile_repair.order_number,
                               jsonb_build_object('repair', reconcile_repair.event_type,
                                                  'sqlstate', v_state, 'message', v_message),
                               NULL, NULL, NULL, NULL, reconcile_repair.run_id);
    RETURN 'error';
END
$$;

COMMENT ON FUNCTION payments.reconcile_repair(text, text, text, bigint) IS
    'Repairs one order for reconcile_local and logs it (reconcile_fix_* / reconcile_release_* / reconcile_error)';
