-- Rule: order numbers are unique across kinds: a second order with the same number
-- raises PM002 and reserves nothing.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);

SELECT throws_ok($$SELECT test_helpers.ticket_order('T-1', 'S1', 2)$$, 'PM002', NULL,
                 'the same order number twice raises PM002');
SELECT throws_ok($$SELECT test_helpers.ticket_order('P-1', 'S1', 2)$$, 'PM002', NULL,
                 'order numbers are unique across kinds');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'the duplicate reserved nothing');
SELECT is((SELECT count(*) FROM payments.ticket_order_items), 1::bigint, 'no extra items');
SELECT is((SELECT count(*) FROM payments.orders), 2::bigint, 'no extra orders');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
