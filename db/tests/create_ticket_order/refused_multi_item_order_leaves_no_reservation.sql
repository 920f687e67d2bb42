-- Rule: a ticket order refused on any item (PM003) leaves no order and no
-- reservation behind, not even on the items that fitted.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.slot('S2', 3);   -- reserved after S1: S1 is updated first, then S2 fails

SELECT throws_ok($$SELECT payments.create_ticket_order('T-1',
    '[{"slot": "S1", "quantity": 2}, {"slot": "S2", "quantity": 4}]', now() + interval '1 hour', 100000)$$,
    'PM003', NULL, 'one item beyond capacity refuses the whole order');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'the item that fitted is not left reserved');
SELECT is(test_helpers.slot_counts('S2'), '0/0', 'nor the one that did not');
SELECT is_empty('SELECT * FROM payments.orders', 'no order row is left behind');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
