BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 4);
SELECT test_helpers.gateway('P-1', 'settlement');
SELECT test_helpers.force_status('P-1', 'refunded');

CREATE TEMP TABLE result AS SELECT payments.release_product_stock('P-1') AS r;
SELECT is((SELECT r ->> 'sold_returned' FROM result), '4', 'returns 4 sold');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'the variant is whole again');
SELECT is(test_helpers.finalized('P-1'), 0::bigint, 'finalized_quantity back to 0');
SELECT isnt((test_helpers.ord('P-1')).stock_released_at, NULL, 'stock_released_at is set');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
