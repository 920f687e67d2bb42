-- Rule: a product order refused on any item (PM004) leaves no order and no
-- reservation behind.
BEGIN;
SELECT plan(4);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.variant('V2', 1);

SELECT throws_ok($$SELECT payments.create_product_order('P-1',
    '[{"sku": "V2", "quantity": 2}, {"sku": "V1", "quantity": 3}]', now() + interval '1 hour', 50000)$$,
    'PM004', NULL, 'one item beyond stock refuses the whole order');
SELECT is(test_helpers.variant_counts('V1') || ' ' || test_helpers.variant_counts('V2'), '0/0 0/0',
          'no reservation is left behind');
SELECT is_empty('SELECT * FROM payments.orders', 'no order row is left behind');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
