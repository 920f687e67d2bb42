BEGIN;
SELECT plan(3);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.force_status('P-1', 'paid');

SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'paid_product_order_fulfilled' AND subject = 'order P-1'
                     AND detail ->> 'pickup_code' = 'false'),
          'a paid product order without pickup code is reported');

SELECT payments.reconcile_local();
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'reconciliation issues the code');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
