-- Rule: an expire_order call made for a run counts in it (checked; changed
-- only when it closed the order), and its result reports what it did like
-- apply_gateway_status does: the release effect it ran.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-LIVE', 'S1', 1);
SELECT test_helpers.gateway('T-LIVE', 'pending');
SELECT payments.start_run('reconcile', 'reconcile') AS run \gset

CREATE TEMP TABLE result AS SELECT payments.expire_order('T-1', 'reconcile', NULL, false, :run) AS r;
SELECT payments.expire_order('T-LIVE', 'reconcile', NULL, false, :run);
SELECT is((SELECT (totals ->> 'checked') || '/' || (totals ->> 'changed') FROM payments.recent_runs()
            WHERE id = :run), '2/1',
          'both calls are counted in the open run (recent_runs), one changed an order');
SELECT is((SELECT count(*) FROM payments.webhook_logs WHERE run_id = :run), 2::bigint, 'both logged under the run');
SELECT is((SELECT detail -> 'effects' -> 0 ->> 'effect' FROM payments.webhook_logs
            WHERE order_number = 'T-1' AND run_id = :run), 'capacity_released', 'the log carries the release');
SELECT is((SELECT r -> 'effects' -> 0 ->> 'effect' FROM result), 'capacity_released',
          'and so does the result returned to the caller');

SELECT * FROM finish();
ROLLBACK;
