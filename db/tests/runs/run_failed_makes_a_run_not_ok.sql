-- Rule: an order the runner could not check (run_failed) counts as failed in
-- its run, so the run cannot finish ok even if every other due order was
-- answered; run_failed on a finished or unknown run raises PM009.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
CREATE TEMP TABLE due AS SELECT * FROM payments.start_sync('0 seconds');
SELECT DISTINCT run_id AS run FROM due \gset

SELECT payments.apply_gateway_status('T-1', 'pending', NULL, 100000, 'tx-1', '201', 'sync', NULL, :run);
SELECT lives_ok(format('SELECT payments.run_failed(%s, %L, %L)', :run, 'T-2', 'Midtrans timed out'),
                'T-2 could not be checked');
SELECT is((SELECT totals ->> 'errors' FROM payments.recent_runs() WHERE id = :run), '1',
          'counted as failed (recent_runs: the open run so far)');

CREATE TEMP TABLE run AS SELECT * FROM payments.finish_run(:run);
SELECT is((SELECT ok FROM run), false, 'the run is not ok');
SELECT isnt((SELECT error FROM run), NULL, 'and records why');
SELECT throws_ok(format('SELECT payments.run_failed(%s, %L, %L)', :run, 'T-2', 'late'), 'PM009', NULL,
                 'a finished run counts nothing more: PM009');
SELECT throws_ok($$SELECT payments.run_failed(-1, 'T-2', 'x')$$, 'PM009', NULL, 'an unknown run: PM009');

SELECT * FROM finish();
ROLLBACK;
