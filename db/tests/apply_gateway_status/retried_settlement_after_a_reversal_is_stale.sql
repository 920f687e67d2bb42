BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'deny', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'Midtrans retrying the settlement of the reversed transaction is stale');
SELECT is(test_helpers.gateway('T-1', 'capture', 'accept', 'tx-1') ->> 'decision', 'stale_ignored',
          'so is a capture of it');
SELECT is(test_helpers.status('T-1'), 'failed', 'the order stays failed');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'no tickets are re-issued');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'no capacity is re-acquired');
SELECT is(test_helpers.decisions('T-1'), ARRAY['paid', 'reversed', 'stale_ignored', 'stale_ignored'],
          'every event is logged with its decision');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
