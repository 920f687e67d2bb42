-- payments.start_run(kind, source) / payments.finish_run(run_id, totals, error)
-- Per-run bookkeeping for sync and reconciliation (DESIGN §7, §8): a row in
-- `runs`, and on finish one webhook_logs entry `sync_run` / `reconcile_run`
-- carrying the totals.
CREATE OR REPLACE FUNCTION payments.start_run(kind text, source text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
BEGIN
    IF start_run.kind IS NULL OR start_run.kind NOT IN ('sync', 'reconcile') THEN
        RAISE EXCEPTION 'run kind must be sync or reconcile, got %', quote_nullable(start_run.kind)
            USING ERRCODE = 'PM009';
    END IF;
    IF coalesce(start_run.source, start_run.kind) NOT IN ('sync', 'reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'run source must be sync, reconcile, cron or manual, got %',
            quote_nullable(start_run.source) USING ERRCODE = 'PM009';
    END IF;
    INSERT INTO payments.runs (kind, source)
    VALUES (start_run.kind, coalesce(start_run.source, start_run.kind))
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION payments.start_run(text, text) IS
    'Opens a run (kind sync | reconcile; source sync | reconcile | cron | manual) and returns its id; PM009';

CREATE OR REPLACE FUNCTION payments.finish_run(run_id bigint, totals jsonb, error text DEFAULT NULL)
RETURNS payments.runs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r payments.runs;
BEGIN
    UPDATE payments.runs AS x
       SET finished_at = clock_timestamp(),
           totals = coalesce(finish_run.totals, '{}'::jsonb),
           error = left(finish_run.error, 2000)
     WHERE x.id = finish_run.run_id AND x.finished_at IS NULL
    RETURNING * INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist or is already finished', finish_run.run_id
            USING ERRCODE = 'PM009';
    END IF;
    INSERT INTO payments.webhook_logs (source, event_type, outcome, detail, run_id)
    VALUES (r.source, r.kind || '_run', CASE WHEN r.error IS NULL THEN 'ok' ELSE 'error' END,
            jsonb_build_object('totals', r.totals, 'error', r.error,
                               'started_at', r.started_at, 'finished_at', r.finished_at),
            r.id);
    RETURN r;
END
$$;

COMMENT ON FUNCTION payments.finish_run(bigint, jsonb, text) IS
    'Closes a run with its totals (and error) and logs a sync_run / reconcile_run event; PM009 unknown run';
