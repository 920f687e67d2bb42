-- A pending of a closed order changes nothing: a new transaction's pending is
-- recorded in its ledger row (no-op), a retried pending of the expired
-- transaction is stale. Nothing is reserved again.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-FAILED', 'S1', 2);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 2);
SELECT test_helpers.gateway('T-FAILED', 'cancel', NULL, 'tx-1');
SELECT test_helpers.gateway('T-EXPIRED', 'expire', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-FAILED', 'pending', NULL, 'tx-2') ->> 'decision', 'noop',
          'pending of a new transaction on a failed order changes nothing');
SELECT is(test_helpers.gateway('T-EXPIRED', 'pending', NULL, 'tx-2') ->> 'decision', 'noop',
          'pending of a new transaction on an expired order changes nothing');
SELECT is(test_helpers.gateway('T-EXPIRED', 'pending', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'a retried pending of the expired transaction is stale');
SELECT is(test_helpers.ledger('T-EXPIRED'), 'tx-1:32,tx-2:10', 'the expired transaction is not rewritten');
SELECT is(test_helpers.status('T-FAILED'), 'failed', 'failed stays failed');
SELECT is(test_helpers.status('T-EXPIRED'), 'expired', 'expired stays expired');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing is reserved again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
