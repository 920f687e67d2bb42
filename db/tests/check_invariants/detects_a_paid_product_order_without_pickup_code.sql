-- Rule: a paid product order (the ledger covers it) without its pickup code or
-- confirmed stock is a violation (paid_product_order_fulfilled, and
-- side_effects_done while its repair column is set) until reconciliation
-- fulfils it.
BEGIN;
SELECT plan(4);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.paid_without_goods('P-1');

SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'paid_product_order_fulfilled' AND subject = 'order P-1'
                     AND detail ->> 'pickup_code' = 'false'),
          'a paid product order without pickup code is reported');
SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'side_effects_done' AND subject = 'order P-1'
                     AND detail ->> 'repair' = 'fix_pickup_code'),
          'with the repair it still needs');

SELECT test_helpers.reconcile_all();
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'reconciliation issues the code');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
