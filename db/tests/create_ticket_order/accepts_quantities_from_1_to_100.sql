-- Rule: create_ticket_order accepts any quantity from 1 to 100 per item and reserves it.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 1000);

SELECT lives_ok($$SELECT test_helpers.ticket_order('T-1', 'S1', 1)$$, 'quantity 1 is fine');
SELECT lives_ok($$SELECT test_helpers.ticket_order('T-100', 'S1', 100)$$, 'quantity 100 is fine');
SELECT is(test_helpers.slot_counts('S1'), '101/0', 'both reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
