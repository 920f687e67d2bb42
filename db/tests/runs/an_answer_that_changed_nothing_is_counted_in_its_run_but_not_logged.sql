-- Rule: a sync / reconcile answer that changed nothing (same stage again, no
-- goods effect, no review) writes no webhook_logs row but is counted in its
-- run (checked, not changed); one that changed something is logged under the run.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-1');           -- the webhook recorded it
SELECT test_helpers.gateway('T-2', 'settlement', NULL, 'tx-2');        -- paid by webhook
CREATE TEMP TABLE logs_before AS SELECT count(*) AS n FROM payments.webhook_logs;
CREATE TEMP TABLE due AS SELECT * FROM payments.start_sync('0 seconds', '5 minutes', 200, ARRAY['T-1', 'T-2']);
SELECT DISTINCT run_id AS run FROM due \gset

SELECT is(payments.apply_gateway_status('T-1', 'pending', NULL, 100000, 'tx-1', '201', 'sync', NULL, :run)
              ->> 'log_id', NULL, 'sync: the same pending again is not logged');
SELECT is(payments.apply_gateway_status('T-2', 'settlement', NULL, 100000, 'tx-2', '200', 'sync', NULL, :run)
              ->> 'log_id', NULL, 'sync: the same settlement again is not logged');
SELECT is((SELECT count(*) FROM payments.webhook_logs), (SELECT n FROM logs_before), 'no row was written');
SELECT is((SELECT (totals ->> 'checked') || '/' || (totals ->> 'changed') FROM payments.recent_runs()
            WHERE id = :run), '2/0',
          'both are counted in the open run (recent_runs) as checked, not changed');
SELECT isnt((test_helpers.ord('T-1')).gateway_checked_at, NULL, 'the check itself is recorded on the order');
SELECT is((payments.finish_run(:run)).ok, true, 'the run is ok');

-- a reconcile answer that changed something is logged under its run
SELECT payments.start_run('reconcile', 'manual') AS rrun \gset
SELECT is(payments.apply_gateway_status('T-2', 'settlement', NULL, 100000, 'tx-2', '200', 'reconcile', NULL, :rrun)
              ->> 'log_id', NULL, 'reconcile: nothing new, not logged');
SELECT isnt(payments.apply_gateway_status('T-1', 'expire', NULL, 100000, 'tx-1', '202', 'reconcile', NULL, :rrun)
              ->> 'log_id', NULL, 'reconcile: an expire that releases the order is logged');
SELECT is((SELECT run_id FROM payments.webhook_logs WHERE order_number = 'T-1' AND outcome = 'released'),
          :rrun::bigint, 'under the run');
SELECT is((SELECT (totals ->> 'checked') || '/' || (totals ->> 'changed') FROM payments.recent_runs()
            WHERE id = :rrun), '2/1', 'both counted');

SELECT * FROM finish();
ROLLBACK;
