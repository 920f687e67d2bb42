-- A refund closes the payment window as refunded: on an order already
-- released (expired) it marks it refunded and releases nothing a second
-- time. A "refund" of the very transaction that expired is stale (Midtrans
-- cannot refund an expired transaction) and changes nothing.
BEGIN;
SELECT plan(7);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.product_order('P-KEEP', 'V1', 3);
SELECT test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');

SELECT is(test_helpers.gateway('P-1', 'refund', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'a refund of the expired transaction itself is stale');
SELECT is(test_helpers.status('P-1'), 'expired', 'and leaves the order expired');
SELECT is(test_helpers.gateway('P-1', 'refund', NULL, 'tx-2') ->> 'decision', 'refunded',
          'a refund of another transaction on an expired product order is decided "refunded"');
SELECT is(test_helpers.status('P-1'), 'refunded', 'the order is marked refunded');
SELECT is(test_helpers.variant_counts('V1'), '3/0', 'nothing is released a second time');
SELECT is(test_helpers.ledger('P-1'), 'tx-1:32,tx-2:41', 'both transactions are in the ledger as Midtrans said');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
