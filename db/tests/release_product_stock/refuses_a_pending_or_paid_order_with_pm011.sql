BEGIN;
SELECT plan(4);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-PENDING', 'V1', 1);
SELECT test_helpers.product_order('P-PAID', 'V1', 1);
SELECT test_helpers.gateway('P-PAID', 'settlement');

SELECT throws_ok($$SELECT payments.release_product_stock('P-PENDING')$$, 'PM011', NULL,
                 'a pending order keeps its stock');
SELECT throws_ok($$SELECT payments.release_product_stock('P-PAID')$$, 'PM011', NULL,
                 'a paid order keeps its stock');
SELECT is(test_helpers.variant_counts('V1'), '1/1', 'nothing released');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
