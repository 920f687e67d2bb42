BEGIN;
SELECT plan(4);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.product_order('P-KEEP', 'V1', 3);
SELECT test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');

SELECT is(test_helpers.gateway('P-1', 'refund', NULL, 'tx-1') ->> 'decision', 'refunded',
          'refund on an expired product order is decided "refunded"');
SELECT is(test_helpers.status('P-1'), 'refunded', 'the order is marked refunded');
SELECT is(test_helpers.variant_counts('V1'), '3/0', 'nothing is released a second time');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
