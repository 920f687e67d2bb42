-- Rule: a quantity that is not an integer from 1 to 100 raises PM007.
BEGIN;
SELECT plan(9);

SELECT test_helpers.variant('V1', 1000);

SELECT throws_ok(format($$SELECT payments.create_product_order('P-1', %L, now() + interval '1 hour', 1000)$$,
                        '[{"sku": "V1", "quantity": ' || q || '}]'),
                 'PM007', NULL, 'quantity ' || q || ' raises PM007')
  FROM unnest(ARRAY['0', '-1', '101', '1.5', '"2"', '1e100']) AS q;
SELECT throws_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1"}]',
                                                        now() + interval '1 hour', 1000)$$,
                 'PM007', NULL, 'a missing quantity raises PM007');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
