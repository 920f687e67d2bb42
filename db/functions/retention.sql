-- payments.prune_logs(max_rows, source)
-- Retention of payments.webhook_logs, run by the runner's schedule
-- (`payments serve`, `payments prune`) and by pg_cron (`payments
-- schedule-cron`). Noise goes after the retention_noise setting (default 30
-- days): rejected notifications, decisions that changed nothing (noop,
-- stale_ignored, not_closed, unknown_status) and run summaries. Everything
-- else -- decisions that changed an order, repairs, reviews resolved --
-- after retention_decisions (default 400 days). At most max_rows rows per
-- call (oldest first), so a backlog is pruned in steps that never hold long
-- locks; one prune run records what went. Finished runs past retention_noise
-- go too once no kept log row points at them (the newest of each kind stays).
CREATE OR REPLACE FUNCTION payments.prune_logs(max_rows integer DEFAULT 10000, source text DEFAULT 'manual')
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_run bigint;
    v_noise integer;
    v_decisions integer;
    v_runs integer;
    v_noise_before timestamptz := payments_private.clock() - payments_private.setting('retention_noise')::interval;
    v_decisions_before timestamptz := payments_private.clock() - payments_private.setting('retention_decisions')::interval;
BEGIN
    PERFORM payments_private.require_row_limit(prune_logs.max_rows, 'max_rows');
    v_run := payments.start_run('prune', prune_logs.source);
    WITH doomed AS (
        SELECT l.id FROM payments.webhook_logs AS l
         WHERE l.created_at < v_noise_before
           AND (l.event_type IN ('signature_invalid', 'malformed_json', 'missing_fields', 'body_too_large',
                                 'unknown_order', 'rejected', 'status_inconsistent', 'confirmation_unavailable',
                                 'confirmation_not_found', 'confirmation_mismatch',
                                 'sync_run', 'reconcile_run', 'prune_run')
                OR (l.event_type = 'gateway_status'
                    AND l.outcome IN ('noop', 'stale_ignored', 'not_closed', 'unknown_status')))
         ORDER BY l.created_at
         LIMIT prune_logs.max_rows
    )
    DELETE FROM payments.webhook_logs AS l USING doomed WHERE l.id = doomed.id;
    GET DIAGNOSTICS v_noise = ROW_COUNT;
    WITH doomed AS (
        SELECT l.id FROM payments.webhook_logs AS l
         WHERE l.created_at < v_decisions_before
         ORDER BY l.created_at
         LIMIT greatest(prune_logs.max_rows - v_noise, 0)
    )
    DELETE FROM payments.webhook_logs AS l USING doomed WHERE l.id = doomed.id;
    GET DIAGNOSTICS v_decisions = ROW_COUNT;
    -- runs past retention_noise that no kept log row points at (the newest
    -- run of each kind stays: the last_* alerts read it)
    WITH doomed AS (
        SELECT r.id FROM payments.runs AS r
         WHERE r.finished_at < v_noise_before
           AND r.id <> ALL (SELECT max(x.id) FROM payments.runs AS x GROUP BY x.kind)
           AND r.id <> ALL (SELECT max(x.id) FROM payments.runs AS x WHERE x.ok GROUP BY x.kind)
           AND NOT EXISTS (SELECT 1 FROM payments.webhook_logs AS l WHERE l.run_id = r.id)
         ORDER BY r.id
         LIMIT prune_logs.max_rows
    )
    DELETE FROM payments.runs AS r USING doomed WHERE r.id = doomed.id;
    GET DIAGNOSTICS v_runs = ROW_COUNT;
    UPDATE payments.runs SET checked = v_noise + v_decisions, changed = v_noise + v_decisions WHERE id = v_run;
    PERFORM payments.finish_run(v_run, jsonb_build_object('deleted_noise', v_noise,
                                                          'deleted_decisions', v_decisions,
                                                          'deleted_runs', v_runs,
                                                          'noise_before', v_noise_before,
                                                          'decisions_before', v_decisions_before));
    RETURN jsonb_build_object('run_id', v_run, 'deleted_noise', v_noise, 'deleted_decisions', v_decisions,
                              'deleted_runs', v_runs, 'more', v_noise + v_decisions >= prune_logs.max_rows OR v_runs >= prune_logs.max_rows);
END
$$;

COMMENT ON FUNCTION payments.prune_logs(integer, text) IS
    'Deletes webhook_logs past retention (noise after retention_noise, the rest after retention_decisions), at most max_rows';
