-- Rule: a slot is never oversold: an order beyond its free capacity (capacity -
-- reserved - sold) raises PM003 and creates nothing.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 5);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.gateway('T-2', 'settlement');
SELECT is(test_helpers.slot_counts('S1'), '3/1', '1 seat left');

SELECT throws_ok($$SELECT test_helpers.ticket_order('T-3', 'S1', 2)$$, 'PM003', NULL,
                 'asking for 2 of 1 free raises PM003');
SELECT is(test_helpers.ord('T-3'), NULL, 'no order is created');
SELECT lives_ok($$SELECT test_helpers.ticket_order('T-4', 'S1', 1)$$, 'the last seat can be sold');
SELECT throws_ok($$SELECT test_helpers.ticket_order('T-5', 'S1', 1)$$, 'PM003', NULL,
                 'a full slot raises PM003');
SELECT is(test_helpers.slot_counts('S1'), '4/1', 'never oversold: reserved + sold = capacity');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
