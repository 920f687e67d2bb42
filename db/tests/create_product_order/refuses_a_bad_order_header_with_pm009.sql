-- Rule: create_product_order refuses a malformed order number, expires_at,
-- gross_amount, currency or item total with PM009.
BEGIN;
SELECT plan(7);

SELECT test_helpers.variant('V1', 10);

SELECT throws_ok($$SELECT payments.create_product_order('P 1', '[{"sku": "V1", "quantity": 1}]',
                                                        now() + interval '1 hour', 1000)$$,
                 'PM009', NULL, 'a malformed order number raises PM009');
SELECT throws_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1", "quantity": 1}]',
                                                        now() - interval '1 minute', 1000)$$,
                 'PM009', NULL, 'expires_at in the past raises PM009');
SELECT throws_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1", "quantity": 1}]',
                                                        now() + interval '1 hour', -1)$$,
                 'PM009', NULL, 'a negative gross_amount raises PM009');
SELECT throws_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1", "quantity": 1}]',
                                                        now() + interval '1 hour', 1000, 'Rp')$$,
                 'PM009', NULL, 'a bad currency raises PM009');
SELECT throws_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1", "quantity": 2, "unit_price": 400}]',
                                                        now() + interval '1 hour', 1000)$$,
                 'PM009', NULL, 'priced items not adding up to gross_amount raise PM009');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
