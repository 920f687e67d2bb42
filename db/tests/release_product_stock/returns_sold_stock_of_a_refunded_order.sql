-- Rule: releasing a refunded product order hands back its sold stock (not only
-- its reservation) and withdraws its pickup code.
BEGIN;
SELECT plan(6);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 4);
SELECT test_helpers.gateway('P-1', 'settlement');
-- a refund recorded by hand (what resolve_review refund records), the release
-- effect not run yet
UPDATE payments.orders SET refunded_manually_at = now(), status = 'refunded' WHERE order_number = 'P-1';

CREATE TEMP TABLE result AS SELECT payments_private.release_product_stock(test_helpers.ord('P-1')) AS r;
SELECT is((SELECT r ->> 'sold_returned' FROM result), '4', 'returns 4 sold');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'the variant is whole again');
SELECT is(test_helpers.finalized('P-1'), 0::bigint, 'finalized_quantity back to 0');
SELECT isnt((test_helpers.ord('P-1')).stock_released_at, NULL, 'stock_released_at is set');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code is withdrawn');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
