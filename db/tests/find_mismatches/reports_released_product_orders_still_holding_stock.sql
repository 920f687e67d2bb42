-- Rule: a refunded / failed / expired product order still holding stock is
-- reported as release_stock; finding releases nothing.
BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 3);
SELECT test_helpers.product_order('P-OK', 'V1', 1);
UPDATE payments.orders SET refunded_manually_at = now(), status = 'refunded'   -- refunded without release
 WHERE order_number = 'P-1';
SELECT test_helpers.gateway('P-OK', 'cancel');

SELECT results_eq($$SELECT check_name, order_number, kind, status FROM payments.find_mismatches()$$,
                  $$VALUES ('release_stock', 'P-1', 'product', 'refunded')$$,
                  'a refunded product order still holding stock is reported');
SELECT is(test_helpers.variant_counts('V1'), '3/0', 'finding releases nothing');
SELECT lives_ok('SELECT test_helpers.reconcile_all()', 'reconciliation repairs what was found');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
