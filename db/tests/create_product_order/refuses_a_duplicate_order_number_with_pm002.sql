-- Rule: order numbers are unique across kinds: a second order with the same number
-- raises PM002 and reserves nothing.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);

SELECT throws_ok($$SELECT test_helpers.product_order('P-1', 'V1', 1)$$, 'PM002', NULL,
                 'the same order number twice raises PM002');
SELECT throws_ok($$SELECT test_helpers.product_order('T-1', 'V1', 1)$$, 'PM002', NULL,
                 'a ticket order''s number cannot be reused for products');
SELECT is(test_helpers.variant_counts('V1'), '1/0', 'the duplicates reserved nothing');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
