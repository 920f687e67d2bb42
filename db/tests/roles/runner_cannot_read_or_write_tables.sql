-- Rule: payments_runner has no table access at all: it cannot read or write
-- any table or view of payments (everything goes through its functions).
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT is_empty($$SELECT c.relname FROM pg_class AS c
                   WHERE c.relnamespace = 'payments'::regnamespace AND c.relkind IN ('r', 'v', 'p')
                     AND (has_any_column_privilege('payments_runner', c.oid, 'SELECT')
                          OR has_any_column_privilege('payments_runner', c.oid, 'INSERT')
                          OR has_any_column_privilege('payments_runner', c.oid, 'UPDATE')
                          OR has_table_privilege('payments_runner', c.oid, 'DELETE')
                          OR has_table_privilege('payments_runner', c.oid, 'TRUNCATE'))$$,
                'no privilege on any table or view');

SET LOCAL ROLE payments_runner;
SELECT throws_ok('SELECT * FROM payments.orders', '42501', NULL, 'runner cannot SELECT orders');
SELECT throws_ok('SELECT * FROM payments.webhook_logs', '42501', NULL, 'runner cannot SELECT webhook_logs');
SELECT throws_ok('SELECT * FROM payments.tickets', '42501', NULL, 'runner cannot SELECT tickets');
SELECT throws_ok('SELECT * FROM payments.audit_open_reviews', '42501', NULL, 'runner cannot SELECT an audit view');
SELECT throws_ok($$INSERT INTO payments.ticket_slots (code, capacity) VALUES ('X', 1)$$, '42501', NULL,
                 'runner cannot INSERT slots');
SELECT throws_ok($$UPDATE payments.orders SET status = 'paid'$$, '42501', NULL, 'runner cannot UPDATE orders');
SELECT throws_ok($$UPDATE payments.settings SET value = '1000 days'$$, '42501', NULL,
                 'runner cannot UPDATE settings');
SELECT throws_ok('DELETE FROM payments.webhook_logs', '42501', NULL, 'runner cannot DELETE logs');
SELECT throws_ok('DELETE FROM payments.runs', '42501', NULL, 'runner cannot DELETE runs');
RESET ROLE;

SELECT is(test_helpers.status('T-1'), 'pending', 'the order is untouched');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'the slot is untouched');

SELECT * FROM finish();
ROLLBACK;
