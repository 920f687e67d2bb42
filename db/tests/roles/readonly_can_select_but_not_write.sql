BEGIN;
SELECT plan(13);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');

SET LOCAL ROLE payments_readonly;
SELECT is((SELECT status FROM payments.orders WHERE order_number = 'T-1'), 'paid', 'readonly can SELECT orders');
SELECT is((SELECT count(*) FROM payments.tickets), 2::bigint, 'readonly can SELECT tickets');
SELECT is((SELECT count(*) FROM payments.webhook_logs), 1::bigint, 'readonly can SELECT webhook_logs');
SELECT lives_ok('SELECT * FROM payments.runs', 'readonly can SELECT runs');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'readonly can check invariants');
SELECT lives_ok('SELECT * FROM payments.find_mismatches()', 'readonly can look for mismatches');
SELECT throws_ok($$UPDATE payments.orders SET status = 'refunded'$$, '42501', NULL, 'readonly cannot UPDATE');
SELECT throws_ok($$INSERT INTO payments.ticket_slots (code, capacity) VALUES ('X', 1)$$, '42501', NULL,
                 'readonly cannot INSERT');
SELECT throws_ok('DELETE FROM payments.tickets', '42501', NULL, 'readonly cannot DELETE');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'refund')$$, '42501', NULL,
                 'readonly cannot apply gateway statuses');
SELECT throws_ok($$SELECT payments.reconcile_local()$$, '42501', NULL, 'readonly cannot reconcile');
RESET ROLE;

SELECT is(test_helpers.status('T-1'), 'paid', 'the order is untouched');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
