-- Rule: create_ticket_order creates a pending order holding its capacity as a
-- reservation, with no ticket before payment.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
CREATE TEMP TABLE result AS
    SELECT payments.create_ticket_order('T-1', '[{"slot": "S1", "quantity": 3, "unit_price": 50000}]',
                                        now() + interval '1 hour', 150000) AS r;

SELECT is((SELECT r ->> 'status' FROM result), 'pending', 'returns status pending');
SELECT is((SELECT r ->> 'kind' FROM result), 'ticket', 'returns kind ticket');
SELECT is((SELECT (r ->> 'order_id')::bigint FROM result), (test_helpers.ord('T-1')).id,
          'returns the new order id');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is pending');
SELECT is((test_helpers.ord('T-1')).gross_amount::numeric, 150000.00::numeric(14,2), 'with its gross amount');
SELECT is((test_helpers.ord('T-1')).currency::text, 'IDR', 'currency defaults to IDR');
SELECT is(test_helpers.slot_counts('S1'), '3/0', 'capacity is reserved');
SELECT is((SELECT quantity::integer FROM payments.ticket_order_items), 3, 'one item with quantity 3');
SELECT is((SELECT finalized_quantity FROM payments.ticket_order_items), 0, 'nothing finalized yet');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets before payment');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
