-- gateway_checked_at records a Status API answer (sync, reconcile), not a
-- notification; every source records the status in the ledger.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.ticket_order('T-3', 'S1', 1);

SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-1', NULL, 'webhook');
SELECT test_helpers.gateway('T-2', 'pending', NULL, 'tx-2', NULL, 'sync');
SELECT test_helpers.gateway('T-3', 'pending', NULL, 'tx-3', NULL, 'reconcile');

SELECT is((test_helpers.ord('T-1')).gateway_checked_at, NULL, 'a webhook is not a Status API answer');
SELECT isnt((test_helpers.ord('T-2')).gateway_checked_at, NULL, 'a sync answer records gateway_checked_at');
SELECT isnt((test_helpers.ord('T-3')).gateway_checked_at, NULL, 'so does a reconcile answer');
SELECT is(test_helpers.ledger('T-1') || ' ' || test_helpers.ledger('T-2') || ' ' || test_helpers.ledger('T-3'),
          'tx-1:10 tx-2:10 tx-3:10', 'the status is recorded in the ledger, whatever the source');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
