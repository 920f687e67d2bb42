-- Rule: an unknown slot, by code or by id, raises PM005 and creates nothing.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);

SELECT throws_ok($$SELECT test_helpers.ticket_order('T-1', 'NOPE', 1)$$, 'PM005', NULL,
                 'an unknown slot code raises PM005');
SELECT throws_ok($$SELECT payments.create_ticket_order('T-1', '[{"slot_id": 999999, "quantity": 1}]',
                                                       now() + interval '1 hour', 1000)$$,
                 'PM005', NULL, 'an unknown slot id raises PM005');
SELECT throws_ok($$SELECT payments.create_ticket_order('T-1',
                   '[{"slot": "S1", "quantity": 1}, {"slot": "NOPE", "quantity": 1}]',
                   now() + interval '1 hour', 1000)$$,
                 'PM005', NULL, 'one unknown slot among known ones raises PM005');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.orders', 'no order created');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
