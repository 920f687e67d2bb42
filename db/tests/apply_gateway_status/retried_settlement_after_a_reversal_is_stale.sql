-- Midtrans retrying the settlement (or the capture) of a transaction that was
-- reversed since is stale: the ledger row stays deny, no tickets are issued
-- again, the order stays pending with its seats held.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'deny', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'Midtrans retrying the settlement of the reversed transaction is stale');
SELECT is(test_helpers.gateway('T-1', 'capture', 'accept', 'tx-1') ->> 'decision', 'stale_ignored',
          'so is a capture of it');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:30', 'the deny is not rewritten');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order stays pending');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'no tickets are re-issued');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'its seats stay held, not sold');
SELECT is(test_helpers.decisions('T-1'), ARRAY['paid', 'reversed', 'stale_ignored', 'stale_ignored'],
          'every event is logged with its decision');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
