-- Reconciliation checks 1-4 (no network): every order whose `repair` column
-- names a side-effect its status still needs gets that effect, one order per
-- transaction. No transaction holds more than one order and its slots /
-- variants (locked in id order), so reconciliation never waits on a hot slot
-- for a whole batch, never makes a webhook wait behind it, and cannot
-- deadlock with order creation, settlements or another reconciler.
DROP FUNCTION IF EXISTS payments.reconcile_local(integer, text, bigint);
DROP FUNCTION IF EXISTS payments.reconcile_repair(text, text, text, bigint);

-- payments.reconcile_step(skip, source, run_id)
-- One repair: takes the first order needing one (FOR UPDATE SKIP LOCKED, so
-- concurrent reconcilers never take the same order and never wait on one in
-- flight), re-derives its status from its ledger, runs the goods effect of
-- that status and logs it as reconcile_<repair> (outcome repaired, flagged
-- when short of capacity / stock, or corrected when the stored status was
-- not the one the ledger supports). A failure is logged as reconcile_error with its
-- SQLSTATE and rolled back to a savepoint, once per run (an order that failed
-- in an earlier batch of the run is tried again but neither logged nor
-- counted again). `skip` holds orders that already failed in this batch.
-- Counts in the run (checked / changed / failed and totals mismatches_found,
-- repaired, corrected, flagged, reconcile_<repair>); NULL when nothing is left.
CREATE OR REPLACE FUNCTION payments.reconcile_step(skip bigint[], source text, run_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v_log_id bigint;
    v_effect jsonb;
    v_outcome text;
    v_state text;
    v_message text;
    v_again boolean := false;
BEGIN
    IF reconcile_step.source IS NULL OR reconcile_step.source NOT IN ('reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'source must be reconcile, cron or manual, got %',
            quote_nullable(reconcile_step.source) USING ERRCODE = 'PM009';
    END IF;
    UPDATE payments.runs SET local_done = true
     WHERE id = reconcile_step.run_id AND kind = 'reconcile' AND finished_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % is not an open reconcile run', reconcile_step.run_id USING ERRCODE = 'PM009';
    END IF;
    SELECT * INTO o FROM payments.orders AS x
     WHERE x.repair IS NOT NULL AND x.id <> ALL (coalesce(reconcile_step.skip, '{}'::bigint[]))
     ORDER BY x.id
     LIMIT 1
       FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_log_id := payments_private.next_log_id();
    BEGIN
        -- the status is re-derived from the ledger first: a status written by
        -- foreign code that no payment supports is corrected, never fulfilled
        v_effect := payments_private.rederive(o.id, v_log_id);
        v_outcome := CASE WHEN v_effect ->> 'shortfall' = 'true' THEN 'flagged'
                          WHEN v_effect ->> 'status' <> o.status THEN 'corrected'
                          ELSE 'repaired' END;
        PERFORM payments_private.write_log(v_log_id, reconcile_step.source, 'reconcile_' || o.repair, v_outcome,
            o.order_number, NULL, NULL, NULL, NULL, NULL, NULL, v_effect, NULL, reconcile_step.run_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        v_outcome := 'error';
        -- an order that already failed in this run (an earlier batch) is
        -- logged and counted once
        v_again := EXISTS (SELECT 1 FROM payments.webhook_logs AS l
                            WHERE l.run_id = reconcile_step.run_id AND l.event_type = 'reconcile_error'
                              AND l.order_number = o.order_number);
        IF NOT v_again THEN
            PERFORM payments_private.write_log(v_log_id, reconcile_step.source, 'reconcile_error', v_state,
                o.order_number, NULL, NULL, NULL, NULL, NULL, NULL,
                jsonb_build_object('repair', o.repair, 'sqlstate', v_state, 'message', left(v_message, 500)),
                NULL, reconcile_step.run_id);
        END IF;
    END;
    IF v_again THEN
        RETURN jsonb_build_object('order_id', o.id, 'order_number', o.order_number, 'repair', o.repair,
                                  'outcome', v_outcome, 'again', true);
    END IF;
    UPDATE payments.runs
       SET checked = checked + 1,
           changed = changed + CASE WHEN v_outcome IN ('repaired', 'corrected') THEN 1 ELSE 0 END,
           failed = failed + CASE WHEN v_outcome = 'error' THEN 1 ELSE 0 END,
           -- per repair kind the repairs made; corrections (a status no payment
           -- supports, put back) and flags counted apart
           totals = jsonb_set(totals, ARRAY['reconcile_' || o.repair],
                              to_jsonb(coalesce((totals ->> ('reconcile_' || o.repair))::integer, 0)
                                       + CASE WHEN v_outcome = 'repaired' THEN 1 ELSE 0 END))
                    || jsonb_build_object('mismatches_found', coalesce((totals ->> 'mismatches_found')::integer, 0) + 1,
                                          'repaired', coalesce((totals ->> 'repaired')::integer, 0)
                                                      + CASE WHEN v_outcome = 'repaired' THEN 1 ELSE 0 END,
                                          'flagged', coalesce((totals ->> 'flagged')::integer, 0)
                                                     + CASE WHEN v_outcome = 'flagged' THEN 1 ELSE 0 END,
                                          'corrected', coalesce((totals ->> 'corrected')::integer, 0)
                                                       + CASE WHEN v_outcome = 'corrected' THEN 1 ELSE 0 END)
     WHERE id = reconcile_step.run_id;
    RETURN jsonb_build_object('order_id', o.id, 'order_number', o.order_number, 'repair', o.repair,
                              'outcome', v_outcome);
END
$$;

COMMENT ON FUNCTION payments.reconcile_step(bigint[], text, bigint) IS
    'One reconciliation repair (SKIP LOCKED), logged and counted in its run; NULL when none is left; PM009';

-- CALL payments.reconcile_local(batch_size, source, run_id, totals)
-- Up to batch_size repairs, each committed on its own. Without a run_id it
-- opens and finishes its own run (pg_cron: source 'cron'). Call it with CALL
-- outside a transaction block (psql, pg_cron, an autocommit connection); the
-- INOUT totals come back as the result row.
CREATE OR REPLACE PROCEDURE payments.reconcile_local(
    batch_size integer DEFAULT 500,
    source text DEFAULT 'reconcile',
    run_id bigint DEFAULT NULL,
    INOUT totals jsonb DEFAULT NULL
)
LANGUAGE plpgsql
-- no SET search_path: a procedure with a SET clause cannot COMMIT; it runs
-- with its caller's rights and names everything schema-qualified
AS $$
DECLARE
    v_run bigint := reconcile_local.run_id;
    v_step jsonb;
    v_skip bigint[] := '{}';
    v_found integer := 0;
    v_repaired integer := 0;
    v_flagged integer := 0;
    v_errors integer := 0;
    v_corrected integer := 0;
BEGIN
    IF reconcile_local.batch_size IS NULL OR reconcile_local.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 100000, got %',
            quote_nullable(reconcile_local.batch_size) USING ERRCODE = 'PM009';
    END IF;
    IF v_run IS NULL THEN
        v_run := payments.start_run('reconcile', reconcile_local.source);
        COMMIT;
    END IF;
    FOR i IN 1 .. reconcile_local.batch_size LOOP
        v_step := payments.reconcile_step(v_skip, reconcile_local.source, v_run);
        COMMIT;
        EXIT WHEN v_step IS NULL;
        v_found := v_found + 1;
        CASE v_step ->> 'outcome'
        WHEN 'repaired' THEN v_repaired := v_repaired + 1;
        WHEN 'corrected' THEN v_corrected := v_corrected + 1;
        WHEN 'flagged' THEN v_flagged := v_flagged + 1;
        ELSE
            v_errors := v_errors + 1;
            v_skip := v_skip || (v_step ->> 'order_id')::bigint;
        END CASE;
    END LOOP;
    totals := jsonb_build_object('run_id', v_run, 'mismatches_found', v_found, 'repaired', v_repaired,
                                 'corrected', v_corrected, 'flagged', v_flagged, 'errors', v_errors);
    IF reconcile_local.run_id IS NULL THEN
        PERFORM payments.finish_run(v_run, totals - 'run_id');
    END IF;
    COMMIT;
END
$$;

COMMENT ON PROCEDURE payments.reconcile_local(integer, text, bigint, jsonb) IS
    'Reconciliation checks 1-4: up to batch_size repairs, one transaction each; CALL outside a transaction block';
