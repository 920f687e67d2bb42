-- Rule: payments_private.release_product_stock releases only a failed, expired
-- or refunded order: a pending or paid order raises PM011 and keeps its stock.
BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-PENDING', 'V1', 1);
SELECT test_helpers.product_order('P-PAID', 'V1', 1);
SELECT test_helpers.gateway('P-PAID', 'settlement');

SELECT throws_ok($$SELECT payments_private.release_product_stock(test_helpers.ord('P-PENDING'))$$, 'PM011', NULL,
                 'a pending order keeps its stock');
SELECT throws_ok($$SELECT payments_private.release_product_stock(test_helpers.ord('P-PAID'))$$, 'PM011', NULL,
                 'a paid order keeps its stock');
SELECT is(test_helpers.variant_counts('V1'), '1/1', 'nothing released');
SELECT isnt((test_helpers.ord('P-PAID')).pickup_code, NULL, 'the paid order keeps its pickup code');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
