-- The order's status follows its money: after a refund closed the window, a
-- new transaction paying the full price covers the order again, so it is paid
-- (a late payment, re-acquired from free capacity / stock). Two transactions
-- were paid, so duplicate_payment is open for a person to check.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'refund', NULL, 'tx-1');
SELECT test_helpers.gateway('P-1', 'refund', NULL, 'tx-1');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.status('P-1'), 'refunded refunded', 'both refunded');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'late_payment',
          'a new payment of a refunded ticket order is a late payment');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid again');
SELECT is(test_helpers.open_reviews('T-1'), 'duplicate_payment:tx-1,tx-2', 'flagged duplicate_payment');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'its tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'from free capacity');
SELECT is(test_helpers.gateway('P-1', 'capture', 'accept', 'tx-2') ->> 'decision', 'late_payment',
          'a new payment of a refunded product order is a late payment too');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'with a pickup code');
SELECT is(test_helpers.review('P-1'), 'duplicate_payment', 'and flagged duplicate_payment');
SELECT is(test_helpers.variant_counts('V1'), '0/1', 'stock taken once');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
