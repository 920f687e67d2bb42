-- Rule: payments_private.release_ticket_capacity is idempotent: the second call
-- releases nothing and keeps the capacity_released_at marker.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 2);
-- expired at Midtrans, the release effect not run yet
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount)
SELECT id, 'tx-1', 'expire', 32, gross_amount FROM payments.orders WHERE order_number = 'T-1';
UPDATE payments.orders SET status = 'expired' WHERE order_number = 'T-1';

SELECT is(payments_private.release_ticket_capacity(test_helpers.ord('T-1')) ->> 'reserved_released', '3',
          'first call releases 3');
SELECT test_helpers.backdate('T-1');
CREATE TEMP TABLE before AS SELECT (test_helpers.ord('T-1')).capacity_released_at AS released;
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'only the other order still holds capacity');
SELECT is(payments_private.release_ticket_capacity(test_helpers.ord('T-1')), '{"effect": "none"}'::jsonb,
          'second call does nothing');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing released twice');
SELECT is((test_helpers.ord('T-1')).capacity_released_at, (SELECT released FROM before), 'same marker');
SELECT is(test_helpers.status('T-1'), 'expired', 'status untouched');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
