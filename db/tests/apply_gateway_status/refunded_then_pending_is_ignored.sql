-- A pending never reopens a refunded order: a pending of the refunded
-- transaction is stale, one of a new transaction is recorded and changes
-- nothing. Nothing is reserved again.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'refund', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'pending', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'pending of the refunded transaction is stale');
SELECT is(test_helpers.gateway('T-1', 'pending', NULL, 'tx-2') ->> 'decision', 'noop',
          'pending of a new transaction on a refunded order changes nothing');
SELECT is(test_helpers.status('T-1'), 'refunded', 'the order stays refunded');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:41,tx-2:10', 'the refund is not rewritten');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing is reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
