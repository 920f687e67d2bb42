-- A refund of the paying transaction closes the window as refunded: the sold
-- stock of a product order is returned.
BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');

SELECT is(test_helpers.gateway('P-1', 'refund', NULL, 'tx-1') ->> 'decision', 'refunded',
          'refund on a paid product order is decided "refunded"');
SELECT is(test_helpers.status('P-1'), 'refunded', 'the order is refunded');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'sold stock is returned');
SELECT isnt((test_helpers.ord('P-1')).stock_released_at, NULL, 'stock_released_at is set');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
