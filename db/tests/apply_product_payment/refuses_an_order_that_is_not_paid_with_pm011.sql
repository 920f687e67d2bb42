BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-PENDING', 'V1', 1);
SELECT test_helpers.product_order('P-EXPIRED', 'V1', 1);
SELECT test_helpers.gateway('P-EXPIRED', 'expire');

SELECT throws_ok($$SELECT payments.apply_product_payment('P-PENDING')$$, 'PM011', NULL,
                 'a pending order gets no pickup code');
SELECT throws_ok($$SELECT payments.apply_product_payment('P-EXPIRED')$$, 'PM011', NULL,
                 'an expired order gets no pickup code');
SELECT is((SELECT count(pickup_code) FROM payments.orders), 0::bigint, 'no pickup codes');
SELECT is(test_helpers.variant_counts('V1'), '1/0', 'only the pending order holds stock');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
