-- Rule: payments_operator is a reader (member of payments_readonly, without
-- the bearer codes) who may also act: resolve_review, repair_counter_drift,
-- expire_order, reconcile, prune, change settings values; it cannot apply
-- gateway statuses, create orders, log rejections or write tables.
BEGIN;
SELECT plan(16);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1'), test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1');
UPDATE payments.ticket_slots SET reserved = 5 WHERE code = 'S1';   -- drift

SELECT ok(pg_has_role('payments_operator', 'payments_readonly', 'USAGE'), 'operator inherits payments_readonly');
SET LOCAL ROLE payments_operator;
SELECT is((SELECT status FROM payments.orders WHERE order_number = 'T-1'), 'paid', 'it reads orders');
SELECT is((SELECT count(*) FROM payments.check_invariants() WHERE invariant = 'counter_drift'), 1::bigint,
          'and runs the read functions');
SELECT throws_ok('SELECT pickup_code FROM payments.orders', '42501', NULL, 'but not the bearer codes');
SELECT is(payments.resolve_review('T-1', 'chargeback', 'dismiss') ->> 'action', 'dismiss', 'it resolves a review');
SELECT is((SELECT outcome FROM payments.repair_counter_drift()), 'repaired', 'it repairs counter drift');
SELECT is(payments.expire_order('T-2') ->> 'new_status', 'expired', 'it closes an order''s window');
SELECT lives_ok($$SELECT payments.finish_run(payments.start_run('reconcile', 'manual'))$$,
                'it opens and finishes a reconcile run');
SELECT lives_ok($$SELECT payments.prune_logs(10, 'manual')$$, 'it prunes the logs');
SELECT lives_ok($$UPDATE payments.settings SET value = '12 hours' WHERE name = 'max_hold'$$,
                'it changes a setting''s value');
SELECT throws_ok($$UPDATE payments.settings SET name = 'x' WHERE name = 'max_hold'$$, '42501', NULL,
                 'but not its name');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'refund', NULL, 100000, 'tx-1', '200')$$,
                 '42501', NULL, 'it cannot apply a gateway status');
SELECT throws_ok($$SELECT payments.create_ticket_order('T-9', '[{"slot": "S1", "quantity": 1}]',
                                                       now() + interval '1 hour', 1000)$$, '42501', NULL,
                 'nor create an order');
SELECT throws_ok($$SELECT payments.log_rejection('rejected')$$, '42501', NULL, 'nor log a rejection');
SELECT throws_ok($$UPDATE payments.orders SET status = 'refunded'$$, '42501', NULL, 'nor write a table');
RESET ROLE;
SELECT is(test_helpers.status('T-1'), 'paid', 'T-1 is untouched');

SELECT * FROM finish();
ROLLBACK;
