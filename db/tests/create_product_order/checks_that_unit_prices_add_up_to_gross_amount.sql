-- Rule: when every item of a product order carries a unit_price, their sum must
-- equal gross_amount to the cent (PM009 otherwise).
BEGIN;
SELECT plan(4);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.variant('V2', 10);

SELECT lives_ok($$SELECT payments.create_product_order('P-1',
    '[{"sku": "V1", "quantity": 3, "unit_price": 12500.50}, {"sku": "V2", "quantity": 1, "unit_price": 0}]',
    now() + interval '1 hour', 37501.50)$$, 'decimal unit prices adding up exactly are accepted');
SELECT throws_ok($$SELECT payments.create_product_order('P-2',
    '[{"sku": "V1", "quantity": 3, "unit_price": 12500.50}]',
    now() + interval '1 hour', 37501.51)$$, 'PM009', NULL, 'one cent off raises PM009');
SELECT is(test_helpers.variant_counts('V1'), '3/0', 'only the accepted order reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
