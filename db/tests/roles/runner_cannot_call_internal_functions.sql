BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SET LOCAL ROLE payments_runner;
SELECT throws_ok($$SELECT payments.lock_order('T-1')$$, '42501', NULL, 'lock_order is internal');
SELECT throws_ok($$SELECT payments.random_code(8)$$, '42501', NULL, 'random_code is internal');
SELECT throws_ok($$SELECT * FROM payments.counter_drift()$$, '42501', NULL, 'counter_drift is internal');
SELECT throws_ok($$SELECT payments.new_pickup_code(1)$$, '42501', NULL, 'new_pickup_code is internal');
SELECT throws_ok($$SELECT payments.reconcile_repair('T-1', 'reconcile_fix_ticket_issued', 'manual', NULL)$$,
                 '42501', NULL, 'reconcile_repair is internal');
SELECT throws_ok($$SELECT payments.gateway_rank('settlement')$$, '42501', NULL, 'gateway_rank is internal');
RESET ROLE;

SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing changed');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
