-- Rule: payments_readonly may SELECT every column of every table and view of
-- payments except the bearer codes, tickets.code and orders.pickup_code, and a
-- checkout's Snap token and redirect URL (42501 for those columns and for
-- SELECT *); order_summary shows it whether
-- a pickup code exists, never the code.
BEGIN;
SELECT plan(10);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.gateway('P-1', 'settlement'), test_helpers.gateway('T-1', 'settlement');

SELECT results_eq($$SELECT c.relname::text COLLATE "default", a.attname::text COLLATE "default"
                      FROM pg_class AS c
                      JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                     WHERE c.relnamespace = 'payments'::regnamespace AND c.relkind IN ('r', 'v', 'p')
                       AND NOT has_column_privilege('payments_readonly', c.oid, a.attnum, 'SELECT')
                     ORDER BY 1, 2$$,
                  $$VALUES ('checkouts', 'redirect_url'), ('checkouts', 'snap_token'), ('orders', 'pickup_code'),
                           ('tickets', 'code')$$,
                  'every column of every table and view is readable, except the two bearer codes and Snap tokens');

SET LOCAL ROLE payments_readonly;
SELECT throws_ok('SELECT code FROM payments.tickets', '42501', NULL, 'tickets.code: 42501');
SELECT throws_ok('SELECT pickup_code FROM payments.orders', '42501', NULL, 'orders.pickup_code: 42501');
SELECT throws_ok('SELECT * FROM payments.tickets', '42501', NULL, 'SELECT * FROM tickets: 42501');
SELECT throws_ok('SELECT * FROM payments.orders', '42501', NULL, 'SELECT * FROM orders: 42501');
SELECT throws_ok($$SELECT 1 FROM payments.orders WHERE pickup_code LIKE 'A%'$$, '42501', NULL,
                 'nor can it probe the code in a WHERE clause');
SELECT lives_ok('SELECT id, order_number, status, repair, needs_review FROM payments.orders',
                'the other columns of orders are readable');
SELECT lives_ok('SELECT * FROM payments.audit_paid_products_missing_pickup_code',
                'the audit views show no code');
RESET ROLE;

-- order_summary keys on the session user (the login), so log in as the role
SET LOCAL SESSION AUTHORIZATION payments_readonly;
SELECT is(payments.order_summary('P-1') ->> 'pickup_code', '(issued; readable by payments_bearer_codes)',
          'order_summary tells readonly a code was issued, not the code');
RESET SESSION AUTHORIZATION;
-- a reader who is also a member of payments_bearer_codes (a role of this transaction only)
CREATE TEMP TABLE code AS SELECT (test_helpers.ord('P-1')).pickup_code AS pickup;
GRANT SELECT ON code TO PUBLIC;
CREATE ROLE payments_test_cashier NOLOGIN IN ROLE payments_readonly, payments_bearer_codes;
SET LOCAL SESSION AUTHORIZATION payments_test_cashier;
SELECT is(payments.order_summary('P-1') ->> 'pickup_code', (SELECT pickup FROM code),
          'a reader who is a member of payments_bearer_codes sees the code');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
