-- Rule: payments_readonly reads tables, audit views and the read functions,
-- and cannot write anything nor call a function that changes state.
BEGIN;
SELECT plan(14);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');

SET LOCAL ROLE payments_readonly;
SELECT is((SELECT status FROM payments.orders WHERE order_number = 'T-1'), 'paid', 'readonly can SELECT orders');
SELECT is((SELECT count(*) FROM payments.tickets WHERE status = 'active'), 2::bigint,
          'readonly can SELECT tickets (without their codes)');
SELECT is((SELECT count(*) FROM payments.webhook_logs), 1::bigint, 'readonly can SELECT webhook_logs');
SELECT lives_ok('SELECT * FROM payments.runs', 'readonly can SELECT runs');
SELECT lives_ok('SELECT * FROM payments.audit_open_reviews', 'readonly can SELECT the audit views');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'readonly can check invariants');
SELECT lives_ok('SELECT * FROM payments.find_mismatches()', 'readonly can look for mismatches');
SELECT throws_ok($$UPDATE payments.orders SET status = 'refunded'$$, '42501', NULL, 'readonly cannot UPDATE');
SELECT throws_ok($$INSERT INTO payments.ticket_slots (code, capacity) VALUES ('X', 1)$$, '42501', NULL,
                 'readonly cannot INSERT');
SELECT throws_ok('DELETE FROM payments.tickets', '42501', NULL, 'readonly cannot DELETE');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'refund', NULL, 100000, 'tx-1', '200')$$, '42501', NULL,
                 'readonly cannot apply gateway statuses');
SELECT throws_ok($$SELECT payments.reconcile_step(NULL, 'manual', 1)$$, '42501', NULL, 'readonly cannot reconcile');
SELECT throws_ok($$CALL payments.reconcile_local(0)$$, '42501', NULL, 'nor call reconcile_local');
RESET ROLE;

SELECT is(test_helpers.status('T-1'), 'paid', 'the order is untouched');

SELECT * FROM finish();
ROLLBACK;
