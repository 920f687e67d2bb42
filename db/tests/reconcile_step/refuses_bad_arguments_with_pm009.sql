-- Rule: reconcile_step runs only with a reconcile source (reconcile, cron,
-- manual) inside an open reconcile run (PM009 otherwise, nothing repaired);
-- the procedure reconcile_local refuses a bad batch size or source with PM009
-- before it commits anything, and cannot run inside a transaction block.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.paid_without_goods('T-1');
SELECT payments.start_run('reconcile', 'manual') AS run \gset
SELECT payments.start_run('prune', 'manual') AS prune_run \gset
SELECT run_id AS sync_run FROM payments.start_sync('0 seconds') LIMIT 1 \gset
SELECT payments.start_run('reconcile', 'manual') AS done_run \gset
SELECT payments.finish_run(:done_run);

SELECT throws_ok(format('SELECT payments.reconcile_step(NULL, %L, %s)', 'webhook', :run), 'PM009', NULL,
                 'a webhook is not a reconcile source');
SELECT throws_ok(format('SELECT payments.reconcile_step(NULL, NULL, %s)', :run), 'PM009', NULL,
                 'a NULL source raises PM009');
SELECT throws_ok($$SELECT payments.reconcile_step(NULL, 'manual', NULL)$$, 'PM009', NULL,
                 'no run: PM009');
SELECT throws_ok($$SELECT payments.reconcile_step(NULL, 'manual', -1)$$, 'PM009', NULL,
                 'an unknown run: PM009');
SELECT throws_ok(format('SELECT payments.reconcile_step(NULL, %L, %s)', 'manual', :sync_run), 'PM009', NULL,
                 'a sync run: PM009');
SELECT throws_ok(format('SELECT payments.reconcile_step(NULL, %L, %s)', 'manual', :prune_run), 'PM009', NULL,
                 'a prune run: PM009');
SELECT throws_ok(format('SELECT payments.reconcile_step(NULL, %L, %s)', 'manual', :done_run), 'PM009', NULL,
                 'a finished run: PM009');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'nothing was repaired');

SELECT throws_ok('CALL payments.reconcile_local(0)', 'PM009', NULL, 'reconcile_local: batch_size 0 raises PM009');
SELECT throws_ok('CALL payments.reconcile_local(NULL)', 'PM009', NULL, 'batch_size NULL raises PM009');
SELECT throws_ok($$CALL payments.reconcile_local(10, 'webhook')$$, 'PM009', NULL,
                 'a webhook is not a reconcile source');
SELECT throws_ok(format('CALL payments.reconcile_local(10, %L, %s)', 'manual', :run), '2D000', NULL,
                 'inside a transaction block it refuses to commit (invalid transaction termination)');

SELECT * FROM finish();
ROLLBACK;
