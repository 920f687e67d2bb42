BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-FAILED', 'S1', 2);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 2);
SELECT test_helpers.gateway('T-FAILED', 'deny', NULL, 'tx-1');
SELECT test_helpers.gateway('T-EXPIRED', 'expire', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-FAILED', 'pending', NULL, 'tx-2') ->> 'decision', 'stale_ignored',
          'pending on a failed order is ignored');
SELECT is(test_helpers.gateway('T-EXPIRED', 'pending', NULL, 'tx-2') ->> 'decision', 'stale_ignored',
          'pending on an expired order is ignored');
SELECT is(test_helpers.gateway('T-EXPIRED', 'pending', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'a retried pending of the expired transaction is ignored');
SELECT is(test_helpers.status('T-FAILED'), 'failed', 'failed stays failed');
SELECT is(test_helpers.status('T-EXPIRED'), 'expired', 'expired stays expired');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing is reserved again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
