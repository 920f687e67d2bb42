-- Rule: the same slot named once by code and once by id is listed twice: PM008.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);

SELECT throws_ok(format($$SELECT payments.create_ticket_order('T-1',
    '[{"slot": "S1", "quantity": 1}, {"slot_id": %s, "quantity": 1}]', now() + interval '1 hour', 1000)$$,
    (SELECT id FROM payments.ticket_slots WHERE code = 'S1')),
    'PM008', NULL, 'the same slot named by code and by id is listed twice');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.orders', 'no order created');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
