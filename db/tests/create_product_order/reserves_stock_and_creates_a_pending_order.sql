-- Rule: create_product_order creates a pending order holding its stock as a
-- reservation per variant, with no pickup code before payment.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.variant('V2', 10);
CREATE TEMP TABLE result AS
    SELECT payments.create_product_order('P-1',
        '[{"sku": "V1", "quantity": 2, "unit_price": 10000}, {"sku": "V2", "quantity": 1, "unit_price": 5000}]',
        now() + interval '1 hour', 25000) AS r;

SELECT is((SELECT r ->> 'status' FROM result), 'pending', 'returns status pending');
SELECT is((SELECT r ->> 'kind' FROM result), 'product', 'returns kind product');
SELECT is(test_helpers.status('P-1'), 'pending', 'the order is pending');
SELECT is(test_helpers.variant_counts('V1') || ' ' || test_helpers.variant_counts('V2'), '2/0 1/0',
          'stock is reserved per variant');
SELECT is((SELECT count(*) FROM payments.product_order_items), 2::bigint, 'two items');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'no pickup code before payment');
SELECT lives_ok(format($$SELECT payments.create_product_order('P-2', '[{"variant_id": %s, "quantity": 8}]',
                                                              now() + interval '1 hour', 80000)$$,
                       (SELECT id FROM payments.product_variants WHERE sku = 'V1')),
                'a variant can be named by id');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
