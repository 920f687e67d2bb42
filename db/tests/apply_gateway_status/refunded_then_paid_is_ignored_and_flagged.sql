BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'refund', NULL, 'tx-1');
SELECT test_helpers.gateway('P-1', 'refund', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'flagged',
          'a payment on a refunded ticket order is ignored and flagged');
SELECT is(test_helpers.status('T-1'), 'refunded', 'the order stays refunded');
SELECT is(test_helpers.review('T-1'), 'paid_after_refund', 'flagged paid_after_refund');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'no tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'no capacity is taken');
SELECT is(test_helpers.gateway('P-1', 'capture', 'accept', 'tx-2') ->> 'decision', 'flagged',
          'a payment on a refunded product order is ignored and flagged');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'no pickup code');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'no stock is taken');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
