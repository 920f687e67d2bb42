-- Rule: payments_private.apply_product_payment fulfils only a paid order: a
-- pending, failed, expired or refunded order raises PM011 and gets no pickup code.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-PENDING', 'V1', 1);
SELECT test_helpers.product_order('P-FAILED', 'V1', 1);
SELECT test_helpers.product_order('P-EXPIRED', 'V1', 1);
SELECT test_helpers.product_order('P-REFUNDED', 'V1', 1);
SELECT test_helpers.gateway('P-FAILED', 'cancel');
SELECT test_helpers.gateway('P-EXPIRED', 'expire');
SELECT test_helpers.gateway('P-REFUNDED', 'settlement'), test_helpers.gateway('P-REFUNDED', 'refund');

SELECT throws_ok($$SELECT payments_private.apply_product_payment(test_helpers.ord('P-PENDING'))$$, 'PM011', NULL,
                 'a pending order gets no pickup code');
SELECT throws_ok($$SELECT payments_private.apply_product_payment(test_helpers.ord('P-FAILED'))$$, 'PM011', NULL,
                 'a failed order gets no pickup code');
SELECT throws_ok($$SELECT payments_private.apply_product_payment(test_helpers.ord('P-EXPIRED'))$$, 'PM011', NULL,
                 'an expired order gets no pickup code');
SELECT throws_ok($$SELECT payments_private.apply_product_payment(test_helpers.ord('P-REFUNDED'))$$, 'PM011', NULL,
                 'a refunded order gets no pickup code');
SELECT is((SELECT count(pickup_code) FROM payments.orders), 0::bigint, 'no pickup codes');
SELECT is((SELECT count(*) FROM payments.orders WHERE stock_confirmed_at IS NOT NULL), 0::bigint,
          'no stock confirmed');
SELECT is(test_helpers.variant_counts('V1'), '1/0', 'only the pending order holds stock');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
