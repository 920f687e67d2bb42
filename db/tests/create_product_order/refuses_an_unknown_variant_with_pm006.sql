-- Rule: an unknown variant, by sku or by id, raises PM006 and creates nothing.
BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);

SELECT throws_ok($$SELECT test_helpers.product_order('P-1', 'NOPE', 1)$$, 'PM006', NULL,
                 'an unknown sku raises PM006');
SELECT throws_ok($$SELECT payments.create_product_order('P-1', '[{"variant_id": 999999, "quantity": 1}]',
                                                        now() + interval '1 hour', 1000)$$,
                 'PM006', NULL, 'an unknown variant id raises PM006');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.orders', 'no order created');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
