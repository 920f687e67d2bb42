-- Rule: a malformed items array (not a non-empty array of objects naming a sku,
-- duplicates, bad unit prices, more than 50 items) raises PM008.
BEGIN;
SELECT plan(10);

SELECT test_helpers.variant('V1', 1000);

SELECT throws_ok(format($$SELECT payments.create_product_order('P-1', %L, now() + interval '1 hour', 1000)$$,
                        items), 'PM008', NULL, why)
  FROM (VALUES
    ('{"sku": "V1", "quantity": 1}', 'an object instead of an array'),
    ('[]', 'an empty array'),
    ('["V1"]', 'array elements that are not objects'),
    ('[{"slot": "V1", "quantity": 1}]', 'an item without sku'),
    ('[{"sku": "V1", "quantity": 1}, {"sku": "V1", "quantity": 1}]', 'the same sku twice'),
    ('[{"sku": "V1", "quantity": 1, "unit_price": {"amount": 5}}]', 'a unit_price that is an object'),
    ('[{"sku": "V1", "quantity": 1, "unit_price": 999.999}]', 'a unit_price with 3 decimals')
  ) AS t (items, why);
SELECT throws_ok($$SELECT payments.create_product_order('P-1',
    (SELECT jsonb_agg(jsonb_build_object('sku', 'V1', 'quantity', 1)) FROM generate_series(1, 51)),
    now() + interval '1 hour', 1000)$$, 'PM008', NULL, 'more than 50 items');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
