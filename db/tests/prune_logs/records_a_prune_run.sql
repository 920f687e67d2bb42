-- Rule: each prune_logs call is recorded as a finished prune run (kind prune,
-- its source, what it deleted in totals and as checked / changed counters, ok)
-- with one prune_run log row, and shows in last_runs.
BEGIN;
SELECT plan(7);

SELECT payments.log_rejection('malformed_json', 'N-' || n) FROM generate_series(1, 3) AS n;
UPDATE payments.webhook_logs SET created_at = now() - interval '31 days';

CREATE TEMP TABLE result AS SELECT payments.prune_logs(100, 'cron') AS r;
CREATE TEMP TABLE run AS SELECT * FROM payments.runs WHERE id = (SELECT (r ->> 'run_id')::bigint FROM result);
SELECT is((SELECT kind || '/' || source FROM run), 'prune/cron', 'a prune run with its source');
SELECT isnt((SELECT finished_at FROM run), NULL, 'finished');
SELECT is((SELECT ok FROM run), true, 'ok');
SELECT is((SELECT (totals ->> 'deleted_noise') || '/' || (totals ->> 'deleted_decisions') || '/' || checked || '/' || changed
             FROM run), '3/0/3/3', 'totals and counters say what was deleted');
SELECT is((SELECT outcome FROM payments.webhook_logs WHERE event_type = 'prune_run' AND run_id = (SELECT id FROM run)),
          'ok', 'one prune_run log row');
SELECT is((SELECT run_id FROM payments.last_runs() WHERE kind = 'prune'), (SELECT id FROM run),
          'last_runs shows it');
SELECT is((SELECT count(*) FROM payments.runs WHERE kind = 'prune'), 1::bigint, 'one run per call');

SELECT * FROM finish();
ROLLBACK;
