-- Runs of sync, reconcile and prune (payments.runs). The counters of a run are
-- written by the functions that do its work (apply_gateway_status,
-- expire_order, apply_status_not_found, run_failed, reconcile_local,
-- prune_logs), so a finished run proves what it did: opening and finishing a
-- sync without checking the orders it found due leaves it failed, and the
-- staleness alert keeps firing.
--
-- The answers of a sync / reconcile run (one per order, each in its own
-- transaction, many at once) are counted as rows of payments_private.
-- run_answers (answer_in_run), not on the run's row: they share the row's
-- lock, so none waits for another, and finish_run folds them into the row.

DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments.start_run(text, text)')) <> 'bigint' THEN
        DROP FUNCTION payments.start_run(text, text);
    END IF;
END
$$;
DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments.finish_run(bigint, jsonb, text)')) <> 'payments.runs' THEN
        DROP FUNCTION payments.finish_run(bigint, jsonb, text);
    END IF;
END
$$;

-- payments.start_sync(min_age, recheck_after, max_rows, orders)
-- Opens a sync run and returns it with the orders it must check: pending
-- orders older than min_age that were never checked, checked longer than
-- recheck_after ago, or are past expires_at (least recently checked first);
-- or exactly `orders` (`payments sync --order`), whatever their status.
-- Unknown order numbers in `orders` are returned too (the Status API decides).
CREATE OR REPLACE FUNCTION payments.start_sync(
    min_age interval DEFAULT '2 minutes',
    recheck_after interval DEFAULT '5 minutes',
    max_rows integer DEFAULT 200,
    orders text[] DEFAULT NULL
)
RETURNS TABLE (run_id bigint, order_number text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_run bigint;
    v_due text[];
BEGIN
    PERFORM payments_private.require_row_limit(start_sync.max_rows, 'max_rows');
    IF start_sync.orders IS NOT NULL THEN
        IF cardinality(start_sync.orders) > start_sync.max_rows THEN
            RAISE EXCEPTION 'at most % orders per sync, got %', start_sync.max_rows, cardinality(start_sync.orders)
                USING ERRCODE = 'PM009';
        END IF;
        SELECT array_agg(DISTINCT left(x, 100)) INTO v_due FROM unnest(start_sync.orders) AS x WHERE x IS NOT NULL;
    ELSE
        SELECT array_agg(d.order_number) INTO v_due
          FROM (SELECT o.order_number
                  FROM payments.orders AS o
                 WHERE o.status = 'pending'
                   AND o.created_at <= payments_private.clock() - start_sync.min_age
                   AND (o.gateway_checked_at IS NULL
                        OR o.gateway_checked_at <= payments_private.clock() - start_sync.recheck_after
                        OR (o.expires_at <= payments_private.clock() AND o.gateway_checked_at <= o.expires_at))
                 ORDER BY o.gateway_checked_at NULLS FIRST, o.created_at
                 LIMIT start_sync.max_rows) AS d;
    END IF;
    INSERT INTO payments.runs (kind, source, due, due_orders)
    VALUES ('sync', 'sync', coalesce(cardinality(v_due), 0), coalesce(v_due, '{}'))
    RETURNING id INTO v_run;
    RETURN QUERY SELECT v_run, x FROM unnest(coalesce(v_due, '{}'::text[])) AS x;
    IF NOT FOUND THEN
        RETURN QUERY SELECT v_run, NULL::text;   -- the run, with nothing due
    END IF;
END
$$;

COMMENT ON FUNCTION payments.start_sync(interval, interval, integer, text[]) IS
    'Opens a sync run and returns the orders it must check (order_number NULL when none is due)';

-- payments.start_run(kind, source)
-- Opens a reconcile or prune run (a sync run is opened by start_sync).
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
    IF start_run.kind IS NULL OR start_run.kind NOT IN ('reconcile', 'prune') THEN
        RAISE EXCEPTION 'run kind must be reconcile or prune (a sync run is opened by start_sync), got %',
            quote_nullable(start_run.kind) USING ERRCODE = 'PM009';
    END IF;
    IF coalesce(start_run.source, 'reconcile') NOT IN ('reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'run source must be reconcile, cron or manual, got %',
            quote_nullable(start_run.source) USING ERRCODE = 'PM009';
    END IF;
    INSERT INTO payments.runs (kind, source) VALUES (start_run.kind, coalesce(start_run.source, 'reconcile'))
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION payments.start_run(text, text) IS
    'Opens a reconcile or prune run (source reconcile | cron | manual) and returns its id; PM009';

-- payments_private.answer_in_run(run_id, order_number, counted_as, changed, failure)
-- Counts an answer in its open run: one row per order of the run in
-- run_answers. The order's first answer decides the counter it counts in
-- (counted_as: checked, not_found or failed); a later one changes none of
-- them, only `changed` (once per order) and `failures` (each run_failed
-- call). PM009 for a finished or unknown run.
--
-- The run's row is locked FOR SHARE: answers of one run share that lock, so
-- none waits for another's transaction, while finish_run's FOR NO KEY UPDATE
-- conflicts with it and so waits for every answer transaction holding it.
-- An answer therefore either commits before its run is closed, and
-- finish_run (at READ COMMITTED, a new snapshot after its lock) folds it in,
-- or finds the run closed: PM009, and its transaction rolls back. FOR KEY
-- SHARE would not do: it does not conflict with NO KEY UPDATE, so finish_run
-- could fold the answers while one was still open, which would then commit
-- into a closed run, never counted. FOR NO KEY UPDATE (the previous lock)
-- made the answers of a run commit one at a time. The foreign key of the
-- answer's log row and of its run_answers row takes KEY SHARE on the same
-- row, which neither lock conflicts with.
CREATE OR REPLACE FUNCTION payments_private.answer_in_run(run_id bigint, order_number text, counted_as text,
                                                          changed boolean, failure boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
    PERFORM FROM payments.runs AS x WHERE x.id = answer_in_run.run_id AND x.finished_at IS NULL
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist or is finished', answer_in_run.run_id USING ERRCODE = 'PM009';
    END IF;
    INSERT INTO payments_private.run_answers AS a (run_id, order_number, counted_as, changed, failures)
    VALUES (answer_in_run.run_id, answer_in_run.order_number, answer_in_run.counted_as,
            coalesce(answer_in_run.changed, false), CASE WHEN answer_in_run.failure THEN 1 ELSE 0 END)
    ON CONFLICT (run_id, order_number) DO UPDATE
       SET changed = a.changed OR EXCLUDED.changed,
           failures = a.failures + EXCLUDED.failures
     -- an answer that adds nothing (reconcile: the local close of a window
     -- Midtrans' answer left unchanged) writes no new row version
     WHERE (EXCLUDED.changed AND NOT a.changed) OR EXCLUDED.failures > 0;
END
$$;

COMMENT ON FUNCTION payments_private.answer_in_run(bigint, text, text, boolean, boolean) IS
    'Counts an answer in its open run (one run_answers row per order, run row locked FOR SHARE); PM009';

-- payments_private.run_so_far(run)
-- The run with the answers counted in it while open folded in: checked /
-- not_found for each order by its first answer, changed once per order,
-- failed per run_failed call, and the orders appended to answered /
-- changed_orders (in order-number order). An order the run's own arrays
-- already hold (counted there by a release before migration 0010, the run
-- open across the upgrade) is counted once, as it was.
CREATE OR REPLACE FUNCTION payments_private.run_so_far(r payments.runs)
RETURNS payments.runs
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    SELECT r.checked + count(*) FILTER (WHERE a.counted_as = 'checked' AND a.order_number <> ALL (r.answered)),
           r.not_found + count(*) FILTER (WHERE a.counted_as = 'not_found' AND a.order_number <> ALL (r.answered)),
           r.failed + coalesce(sum(a.failures), 0),
           r.changed + count(*) FILTER (WHERE a.changed AND a.order_number <> ALL (r.changed_orders)),
           r.answered || coalesce(array_agg(a.order_number ORDER BY a.order_number)
                                      FILTER (WHERE a.order_number <> ALL (r.answered)), '{}'),
           r.changed_orders || coalesce(array_agg(a.order_number ORDER BY a.order_number)
                                            FILTER (WHERE a.changed AND a.order_number <> ALL (r.changed_orders)),
                                        '{}')
      INTO r.checked, r.not_found, r.failed, r.changed, r.answered, r.changed_orders
      FROM payments_private.run_answers AS a
     WHERE a.run_id = r.id;
    RETURN r;
END
$$;

COMMENT ON FUNCTION payments_private.run_so_far(payments.runs) IS
    'The run with the answers counted in it while open (run_answers) folded into its counters and arrays';

-- payments.run_failed(run_id, order_number, reason)
-- The runner could not check one order of a run (Midtrans down, the database
-- refused the answer): counted (failed + 1 for each call; the order counts as
-- answered), so the run cannot finish clean. Like an answer it shares the
-- run's lock with the run's other answers (answer_in_run).
CREATE OR REPLACE FUNCTION payments.run_failed(run_id bigint, order_number text, reason text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
BEGIN
    IF run_failed.order_number IS NULL THEN
        RAISE EXCEPTION 'order_number is required' USING ERRCODE = 'PM009';
    END IF;
    -- cut as start_sync cuts the orders it is given, so it matches due_orders
    PERFORM payments_private.answer_in_run(run_failed.run_id, left(run_failed.order_number, 100), 'failed',
                                           false, true);
END
$$;

COMMENT ON FUNCTION payments.run_failed(bigint, text, text) IS
    'Counts an order a run could not check; PM009 for a finished or unknown run (or no order_number)';

-- payments.finish_run(run_id, extra, error)
-- Closes a run. Its totals are its counters (extra, a JSON object, only adds
-- the runner's own figures, e.g. expire calls made; it can neither override
-- nor stand in for a counter the run keeps itself). A run is
-- ok when no error is given, nothing failed and, for a sync, every due order
-- was answered; for a reconcile, when reconcile_local ran in it. Logs one
-- sync_run / reconcile_run / prune_run row. The answers counted while the run
-- was open (run_answers) are folded into its counters and arrays and deleted.
CREATE OR REPLACE FUNCTION payments.finish_run(run_id bigint, extra jsonb DEFAULT '{}'::jsonb, error text DEFAULT NULL)
RETURNS payments.runs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r payments.runs;
    v_problem text;
    v_unchecked bigint := 0;
BEGIN
    IF finish_run.extra IS NOT NULL AND jsonb_typeof(finish_run.extra) <> 'object' THEN
        RAISE EXCEPTION 'extra must be a JSON object, got %', jsonb_typeof(finish_run.extra) USING ERRCODE = 'PM009';
    END IF;
    -- the answers that committed while this waited for the lock below are
    -- seen only by a statement with a newer snapshot: at REPEATABLE READ they
    -- would be missed (and left behind), so it is refused there
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'finish_run must run at READ COMMITTED, not %', current_setting('transaction_isolation')
            USING ERRCODE = 'invalid_transaction_state';
    END IF;
    -- waits for every answer transaction holding the row FOR SHARE
    -- (answer_in_run), and makes a later answer wait for this one, then find
    -- the run finished; compatible with the KEY SHARE of log rows naming the
    -- run (FK)
    SELECT * INTO r FROM payments.runs AS x WHERE x.id = finish_run.run_id AND x.finished_at IS NULL
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist or is already finished', finish_run.run_id USING ERRCODE = 'PM009';
    END IF;
    r := payments_private.run_so_far(r);
    DELETE FROM payments_private.run_answers AS a WHERE a.run_id = r.id;
    IF r.kind = 'sync' THEN   -- a set difference (hashed), not <@ (one scan of answered per due order)
        SELECT count(*) INTO v_unchecked
          FROM (SELECT unnest(r.due_orders) EXCEPT SELECT unnest(r.answered)) AS d;
    END IF;
    v_problem := coalesce(left(finish_run.error, 2000),
        CASE WHEN r.failed > 0 THEN r.failed || CASE r.kind WHEN 'reconcile' THEN ' repair(s) failed'
                                                             ELSE ' order(s) could not be checked' END
             WHEN v_unchecked > 0 THEN v_unchecked || ' of ' || r.due || ' due order(s) were never checked'
             WHEN r.kind = 'reconcile' AND NOT r.local_done THEN 'reconcile_local never ran in this run'
        END);
    UPDATE payments.runs AS x
       SET finished_at = payments_private.wall_clock(),
           ok = v_problem IS NULL,
           error = v_problem,
           checked = r.checked,
           not_found = r.not_found,
           failed = r.failed,
           changed = r.changed,
           answered = r.answered,
           changed_orders = r.changed_orders,
           -- the caller's extra figures never stand in for a counter
           totals = (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
                       FROM jsonb_each(jsonb_strip_nulls(coalesce(finish_run.extra, '{}'::jsonb))) AS e
                      WHERE e.key NOT IN ('due', 'checked', 'changed', 'not_found', 'errors', 'ok',
                                          'mismatches_found', 'repaired', 'corrected', 'flagged')
                        AND e.key NOT LIKE 'reconcile\_%')
                    || CASE WHEN x.kind = 'reconcile'
                            THEN '{"mismatches_found": 0, "repaired": 0, "corrected": 0, "flagged": 0}'::jsonb
                            ELSE '{}'::jsonb END
                    || x.totals
                    || jsonb_strip_nulls(jsonb_build_object('due', x.due, 'checked', r.checked,
                                                            'changed', r.changed, 'not_found', r.not_found,
                                                            'errors', r.failed))
     WHERE x.id = r.id
    RETURNING * INTO r;
    PERFORM payments_private.write_log(NULL, r.source, r.kind || '_run', CASE WHEN r.ok THEN 'ok' ELSE 'error' END,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        jsonb_build_object('totals', r.totals, 'error', r.error, 'started_at', r.started_at,
                           'finished_at', r.finished_at),
        NULL, r.id);
    RETURN r;
END
$$;

COMMENT ON FUNCTION payments.finish_run(bigint, jsonb, text) IS
    'Closes a run from its own counters (ok only when it did its work) and logs a *_run row; PM009';

-- payments.last_runs()
-- The latest finished run of each kind and when the last ok one finished, for
-- metrics and alerts (the runner role cannot read `runs` directly).
DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments.last_runs()')) <> 'TABLE(kind text, run_id bigint, finished_at timestamp with time zone, age_seconds double precision, totals jsonb, error text, last_ok_at timestamp with time zone)' THEN
        DROP FUNCTION payments.last_runs();
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION payments.last_runs()
RETURNS TABLE (kind text, run_id bigint, finished_at timestamptz, age_seconds double precision,
               totals jsonb, error text, last_ok_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
    SELECT k.kind, r.id, r.finished_at, extract(epoch FROM payments_private.clock() - r.finished_at)::double precision,
           r.totals, r.error,
           (SELECT max(ok.finished_at) FROM payments.runs AS ok WHERE ok.kind = k.kind AND ok.ok)
      FROM (VALUES ('sync'), ('reconcile'), ('prune')) AS k (kind)
      LEFT JOIN LATERAL (SELECT * FROM payments.runs AS x
                          WHERE x.kind = k.kind AND x.finished_at IS NOT NULL
                          ORDER BY x.started_at DESC, x.id DESC LIMIT 1) AS r ON true
$$;

COMMENT ON FUNCTION payments.last_runs() IS
    'Latest finished sync / reconcile / prune run with totals, and when the last ok one finished';

-- payments.recent_runs(max_rows)
-- The latest runs with their totals, newest first (payments runs). An open
-- run's totals are its counters so far, the answers counted in run_answers
-- included (finish_run folds them into the row only when it closes it).
CREATE OR REPLACE FUNCTION payments.recent_runs(max_rows integer DEFAULT 20)
RETURNS TABLE (id bigint, kind text, source text, started_at timestamptz, finished_at timestamptz, ok boolean,
               totals jsonb, error text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
BEGIN
    PERFORM payments_private.require_row_limit(recent_runs.max_rows, 'max_rows');
    RETURN QUERY
    SELECT r.id, r.kind, r.source, r.started_at, r.finished_at, r.ok,
           CASE WHEN r.finished_at IS NOT NULL THEN r.totals
                ELSE (SELECT r.totals || jsonb_strip_nulls(jsonb_build_object('due', s.due, 'checked', s.checked,
                                                                               'changed', s.changed,
                                                                               'not_found', s.not_found,
                                                                               'errors', s.failed))
                        FROM payments_private.run_so_far(r) AS s) END,
           r.error
      FROM payments.runs AS r ORDER BY r.id DESC LIMIT recent_runs.max_rows;
END
$$;

COMMENT ON FUNCTION payments.recent_runs(integer) IS
    'The latest runs with their totals (an open one''s counters so far), newest first';
