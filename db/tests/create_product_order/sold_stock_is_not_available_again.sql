-- Rule: sold stock cannot be reserved by another order until a refund returns it.
BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'settlement');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'all stock is sold');

SELECT throws_ok($$SELECT test_helpers.product_order('P-2', 'V1', 1)$$, 'PM004', NULL,
                 'sold stock cannot be reserved again');
SELECT test_helpers.gateway('P-1', 'refund');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'a refund returns it');
SELECT lives_ok($$SELECT test_helpers.product_order('P-2', 'V1', 2)$$, 'and it can be sold again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
