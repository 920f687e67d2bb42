-- Rule: a pending order whose goods are still out (repair hold_capacity /
-- hold_stock, e.g. a reversal whose hold effect never ran) gets them held by a
-- reconcile step: tickets voided / pickup code withdrawn, sold back to reserved.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
-- the payments were reversed at Midtrans and recorded, the hold effect never ran
UPDATE payments.gateway_transactions SET transaction_status = 'deny', stage = 30;
UPDATE payments.orders SET status = 'pending';
SELECT is(ARRAY[(test_helpers.ord('T-1')).repair, (test_helpers.ord('P-1')).repair],
          ARRAY['hold_capacity', 'hold_stock'], 'setup: the repair column names the repairs');

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT (totals ->> 'reconcile_hold_capacity') || '/' || (totals ->> 'reconcile_hold_stock') FROM run),
          '1/1', 'one hold of each kind counted');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'the tickets are voided');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'sold capacity went back to the reservation');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code is withdrawn');
SELECT is(test_helpers.variant_counts('V1'), '1/0', 'sold stock went back to the reservation');
SELECT is(test_helpers.outcomes('T-1', 'reconcile_hold_capacity') || test_helpers.outcomes('P-1', 'reconcile_hold_stock'),
          ARRAY['repaired', 'repaired'], 'logged as reconcile_hold_capacity / reconcile_hold_stock');
SELECT is(ARRAY[test_helpers.status('T-1'), test_helpers.status('P-1')], ARRAY['pending', 'pending'],
          'both stay pending: the customer may pay again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
