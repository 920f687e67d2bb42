-- Rule: a paid product order (the ledger covers it) without its pickup code
-- (repair fix_pickup_code) gets its code and its stock confirmed by a
-- reconcile step, logged as reconcile_fix_pickup_code / repaired.
BEGIN;
SELECT plan(6);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.paid_without_goods('P-1');
SELECT is((test_helpers.ord('P-1')).repair, 'fix_pickup_code', 'setup: the repair column names the repair');

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT totals ->> 'reconcile_fix_pickup_code' FROM run), '1', 'one pickup repair counted');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code is issued');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'the stock is confirmed');
SELECT is(test_helpers.outcomes('P-1', 'reconcile_fix_pickup_code'), ARRAY['repaired'],
          'logged as reconcile_fix_pickup_code');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
