-- Rule: each function granted to payments_runner works for it (SECURITY
-- DEFINER where it touches tables the runner cannot read): orders, gateway
-- answers, local expiry, rejections, sync / reconcile / prune runs, metrics.
BEGIN;
SELECT plan(18);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);

SET LOCAL ROLE payments_runner;
SELECT lives_ok($$SELECT payments.create_ticket_order('T-1', '[{"slot": "S1", "quantity": 2}]',
                                                      now() + interval '1 hour', 100000)$$,
                'create_ticket_order');
SELECT lives_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1", "quantity": 1}]',
                                                       now() + interval '1 hour', 50000)$$,
                'create_product_order');
SELECT lives_ok($$SELECT payments.create_ticket_order('T-2', '[{"slot": "S1", "quantity": 1}]',
                                                      now() + interval '1 hour', 100000)$$,
                'create_ticket_order again');
SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'webhook')
              ->> 'decision', 'paid', 'apply_gateway_status');
SELECT is(payments.expire_order('P-1', 'manual') ->> 'new_status', 'expired', 'expire_order');
SELECT is(payments.apply_status_not_found('T-2', 'sync') ->> 'decision', 'not_found', 'apply_status_not_found');
SELECT isnt(payments.log_rejection('signature_invalid', 'T-1'), NULL, 'log_rejection');
SELECT run_id AS sync_run FROM payments.start_sync('0 seconds', '0 seconds', 200, ARRAY['T-2']) LIMIT 1 \gset
SELECT ok(:sync_run > 0, 'start_sync');
SELECT lives_ok(format('SELECT payments.run_failed(%s, %L, %L)', :sync_run, 'T-2', 'timeout'), 'run_failed');
SELECT is((payments.finish_run(:sync_run)).ok, false, 'finish_run (a sync run with a failure)');
SELECT payments.start_run('reconcile', 'cron') AS rrun \gset
SELECT is(payments.reconcile_step(NULL, 'cron', :rrun), NULL, 'start_run and reconcile_step');
SELECT is((payments.finish_run(:rrun)).ok, true, 'finish_run (a reconcile run)');
SELECT throws_ok('CALL payments.reconcile_local(0)', 'PM009', NULL,
                 'reconcile_local is executable (it runs and refuses batch_size 0)');
SELECT lives_ok($$SELECT * FROM payments.orders_past_expiry()$$, 'orders_past_expiry');
SELECT isnt(payments.prune_logs(10, 'cron') ->> 'run_id', NULL, 'prune_logs');
SELECT is((SELECT count(*) FROM payments.last_runs()), 3::bigint, 'last_runs');
SELECT isnt((SELECT count(*) FROM payments.alerts()), 0::bigint, 'alerts');
RESET ROLE;

SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
