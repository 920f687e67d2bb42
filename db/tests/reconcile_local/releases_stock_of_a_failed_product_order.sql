BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 4);
SELECT test_helpers.force_status('P-1', 'failed');

CREATE TEMP TABLE result AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'reconcile_release_stock')::int FROM result), 1, 'one stock release counted');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'the stock is released');
SELECT isnt((test_helpers.ord('P-1')).stock_released_at, NULL, 'stock_released_at is set');
SELECT is(test_helpers.outcomes('P-1', 'reconcile_release_stock'), ARRAY['repaired'],
          'logged as reconcile_release_stock');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
