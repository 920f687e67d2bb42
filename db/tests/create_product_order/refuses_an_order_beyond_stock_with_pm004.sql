-- Rule: a variant is never oversold: an order beyond its free stock raises PM004
-- and creates nothing.
BEGIN;
SELECT plan(7);

SELECT test_helpers.variant('V1', 3);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.gateway('P-2', 'settlement');
SELECT is(test_helpers.variant_counts('V1'), '1/1', '1 unit left');

SELECT throws_ok($$SELECT test_helpers.product_order('P-3', 'V1', 2)$$, 'PM004', NULL,
                 'asking for 2 of 1 left raises PM004');
SELECT is(test_helpers.ord('P-3'), NULL, 'no order is created');
SELECT lives_ok($$SELECT test_helpers.product_order('P-4', 'V1', 1)$$, 'the last unit can be sold');
SELECT throws_ok($$SELECT test_helpers.product_order('P-5', 'V1', 1)$$, 'PM004', NULL,
                 'an exhausted variant raises PM004');
SELECT is(test_helpers.variant_counts('V1'), '2/1', 'never oversold: reserved + sold = stock');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
