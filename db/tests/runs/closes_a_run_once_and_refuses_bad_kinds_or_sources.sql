-- Rule: start_run opens reconcile and prune runs only (a sync run comes from
-- start_sync), with a source of reconcile / cron / manual; finish_run closes a
-- run once with its error (PM009 for a finished or unknown run), and an
-- answer cannot be counted in a finished run.
BEGIN;
SELECT plan(10);

SELECT payments.start_run('reconcile') AS run \gset
SELECT is((SELECT kind || '/' || source FROM payments.runs WHERE id = :run), 'reconcile/reconcile',
          'start_run opens a run, source defaulting to reconcile');
SELECT is((SELECT finished_at FROM payments.runs WHERE id = :run), NULL, 'not finished yet');
SELECT is((payments.finish_run(:run, '{}', 'Midtrans timed out')).error, 'Midtrans timed out',
          'finish_run closes it with the error given');
SELECT is((SELECT ok FROM payments.runs WHERE id = :run), false, 'a run finished with an error is not ok');
SELECT is((SELECT outcome FROM payments.webhook_logs WHERE event_type = 'reconcile_run'), 'error',
          'a reconcile_run log row with outcome error');
SELECT throws_ok(format('SELECT payments.finish_run(%s)', :run), 'PM009', NULL, 'a run cannot be finished twice');
SELECT throws_ok('SELECT payments.finish_run(-1)', 'PM009', NULL, 'an unknown run raises PM009');
SELECT throws_ok($$SELECT payments.start_run('sync')$$, 'PM009', NULL, 'a sync run is not opened by start_run');
SELECT throws_ok($$SELECT payments.start_run('reconcile', 'webhook')$$, 'PM009', NULL,
                 'a webhook cannot open a run');

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT throws_ok(format($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200',
                                                               'sync', NULL, %s)$$, :run), 'PM009', NULL,
                 'an answer cannot be counted in a finished run');

SELECT * FROM finish();
ROLLBACK;
