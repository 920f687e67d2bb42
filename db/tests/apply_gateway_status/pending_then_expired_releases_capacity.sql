-- An expire closes the payment window: the pending order is expired and its
-- reserved capacity is free for others.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 4);
SELECT test_helpers.ticket_order('T-1', 'S1', 4);

SELECT is(test_helpers.gateway('T-1', 'expire') ->> 'decision', 'released', 'expire releases');
SELECT is(test_helpers.status('T-1'), 'expired', 'the order is expired');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'its capacity is free again');
SELECT isnt((test_helpers.ord('T-1')).capacity_released_at, NULL, 'capacity_released_at is set');
SELECT lives_ok($$SELECT test_helpers.ticket_order('T-2', 'S1', 4)$$,
                'the freed capacity can be sold to someone else');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
