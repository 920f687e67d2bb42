BEGIN;
SELECT plan(5);

-- tx-1 expired at Midtrans; tx-2 settled and was reversed. Delivered: tx-2's
-- deny, tx-1's late expire, then tx-2's retried settlement.
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-2') ->> 'decision', 'released', 'deny releases');
SELECT is(test_helpers.gateway('T-1', 'expire', NULL, 'tx-1') ->> 'decision', 'noop',
          'the older attempt expiring changes nothing');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'stale_ignored',
          'the retried settlement of the reversed transaction is stale');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing is held or sold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
