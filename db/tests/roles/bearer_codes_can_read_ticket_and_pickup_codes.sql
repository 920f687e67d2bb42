-- Rule: payments_bearer_codes is the role that reads bearer codes: it may
-- SELECT tickets.code and orders.pickup_code (with the ids, order number and
-- status to find them), nothing else, and write nothing.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('P-1', 'settlement'), test_helpers.gateway('T-1', 'settlement');
CREATE TEMP TABLE expected AS
    SELECT (test_helpers.ord('P-1')).pickup_code AS pickup, test_helpers.ticket_codes('T-1') AS codes;
GRANT SELECT ON expected TO payments_bearer_codes;

SET LOCAL ROLE payments_bearer_codes;
SELECT is((SELECT pickup_code FROM payments.orders WHERE order_number = 'P-1'), (SELECT pickup FROM expected),
          'it reads a pickup code by order number');
SELECT is((SELECT array_agg(code ORDER BY id) FROM payments.tickets WHERE status = 'active'),
          (SELECT codes FROM expected), 'and the ticket codes');
SELECT throws_ok('SELECT gross_amount FROM payments.orders', '42501', NULL, 'but not the money of an order');
SELECT throws_ok('SELECT * FROM payments.webhook_logs', '42501', NULL, 'nor the logs');
SELECT throws_ok('SELECT * FROM payments.ticket_slots', '42501', NULL, 'nor the slots');
SELECT throws_ok($$UPDATE payments.orders SET pickup_code = 'AAAA-AAAA'$$, '42501', NULL, 'it cannot change a code');
SELECT throws_ok($$SELECT payments.order_summary('P-1')$$, '42501', NULL, 'nor call the read functions');
RESET ROLE;
SELECT is((test_helpers.ord('P-1')).pickup_code, (SELECT pickup FROM expected), 'the code is untouched');

SELECT * FROM finish();
ROLLBACK;
