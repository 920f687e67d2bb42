BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 3);
SELECT test_helpers.product_order('P-OK', 'V1', 1);
SELECT test_helpers.force_status('P-1', 'refunded');
SELECT test_helpers.gateway('P-OK', 'deny');

SELECT results_eq($$SELECT check_name, order_number, kind, status FROM payments.find_mismatches()$$,
                  $$VALUES ('product_stock_unreleased', 'P-1', 'product', 'refunded')$$,
                  'check 4: a refunded product order still holding stock is reported');
SELECT is(test_helpers.variant_counts('V1'), '3/0', 'finding releases nothing');
SELECT lives_ok('SELECT payments.reconcile_local()', 'reconcile_local repairs what was found');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
