-- A refund closes the payment window as refunded, even on an order never seen
-- paid: its reservation is released.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 3);

SELECT is(test_helpers.gateway('T-1', 'refund') ->> 'decision', 'refunded',
          'refund on a pending ticket order is decided "refunded"');
SELECT is(test_helpers.status('T-1'), 'refunded', 'ticket order is refunded');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'its capacity is released');
SELECT is(test_helpers.gateway('P-1', 'refund') ->> 'decision', 'refunded',
          'refund on a pending product order is decided "refunded"');
SELECT is(test_helpers.status('P-1'), 'refunded', 'product order is refunded');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'its stock is released');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets were issued');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
