BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.force_status('P-1', 'paid');

CREATE TEMP TABLE result AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'reconcile_fix_pickup_code')::int FROM result), 1, 'one pickup repair counted');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code is issued');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'the stock is confirmed');
SELECT is(test_helpers.outcomes('P-1', 'reconcile_fix_pickup_code'), ARRAY['repaired'],
          'logged as reconcile_fix_pickup_code');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
