-- Rule: a failed product order still holding stock (repair release_stock) gets
-- its stock released by a reconcile step, logged as reconcile_release_stock.
BEGIN;
SELECT plan(6);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 4);
SELECT test_helpers.closed_without_release('P-1', 'cancel');
SELECT is((test_helpers.ord('P-1')).repair, 'release_stock', 'setup: the repair column names the repair');

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT totals ->> 'reconcile_release_stock' FROM run), '1', 'one stock release counted');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'the stock is released');
SELECT isnt((test_helpers.ord('P-1')).stock_released_at, NULL, 'stock_released_at is set');
SELECT is(test_helpers.outcomes('P-1', 'reconcile_release_stock'), ARRAY['repaired'],
          'logged as reconcile_release_stock');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
