-- Rule: a pending order past expires_at + grace is reported as
-- needs_gateway_status (only Midtrans can say it was not paid): the database
-- does not expire it on its own.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-LONG-GONE', 'S1', 1);
SELECT test_helpers.ticket_order('T-IN-GRACE', 'S1', 1);
SELECT test_helpers.ticket_order('T-FRESH', 'S1', 1);
UPDATE payments.orders SET expires_at = now() - interval '1 hour' WHERE order_number = 'T-LONG-GONE';
UPDATE payments.orders SET expires_at = now() - interval '5 minutes' WHERE order_number = 'T-IN-GRACE';

SELECT results_eq($$SELECT check_name, order_number FROM payments.find_mismatches()$$,
                  $$VALUES ('needs_gateway_status', 'T-LONG-GONE')$$,
                  'check 5: a pending order past expires_at + 15 minutes needs Midtrans');
SELECT results_eq($$SELECT order_number FROM payments.find_mismatches(100, '1 minute')$$,
                  $$VALUES ('T-LONG-GONE'), ('T-IN-GRACE')$$,
                  'with a shorter grace the second one is due too, oldest first');
SELECT is(test_helpers.status('T-LONG-GONE'), 'pending',
          'the database does not expire it on its own: only Midtrans can say it was not paid');
SELECT is(test_helpers.slot_counts('S1'), '3/0', 'nothing released');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
