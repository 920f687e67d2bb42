-- A pending or authorize of a pending order changes nothing (logged as noop).
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT is(test_helpers.gateway('T-1', 'pending') ->> 'decision', 'noop',
          'pending on a pending order is a no-op');
SELECT is(test_helpers.gateway('T-1', 'authorize') ->> 'decision', 'noop',
          'authorize on a pending order is a no-op');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order stays pending');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'the reservation is kept');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets');
SELECT is((test_helpers.ord('T-1')).capacity_released_at, NULL, 'nothing released');
SELECT is(test_helpers.decisions('T-1'), ARRAY['noop', 'noop'], 'both no-ops are logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
