BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SET LOCAL ROLE payments_runner;
SELECT throws_ok('SELECT * FROM payments.orders', '42501', NULL, 'runner cannot SELECT orders');
SELECT throws_ok('SELECT * FROM payments.webhook_logs', '42501', NULL, 'runner cannot SELECT webhook_logs');
SELECT throws_ok('SELECT * FROM payments.tickets', '42501', NULL, 'runner cannot SELECT tickets');
SELECT throws_ok($$INSERT INTO payments.ticket_slots (code, capacity) VALUES ('X', 1)$$, '42501', NULL,
                 'runner cannot INSERT slots');
SELECT throws_ok($$UPDATE payments.orders SET status = 'paid'$$, '42501', NULL, 'runner cannot UPDATE orders');
SELECT throws_ok($$UPDATE payments.ticket_slots SET capacity = 1000$$, '42501', NULL,
                 'runner cannot UPDATE slots');
SELECT throws_ok('DELETE FROM payments.webhook_logs', '42501', NULL, 'runner cannot DELETE logs');
SELECT throws_ok('DELETE FROM payments.runs', '42501', NULL, 'runner cannot DELETE runs');
RESET ROLE;

SELECT is(test_helpers.status('T-1'), 'pending', 'the order is untouched');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'the slot is untouched');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
