-- A refunded order stays refunded: a deny of the refunded transaction is
-- stale, an expire of another one is recorded but a refund outranks it.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'refund', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'deny of the refunded transaction is stale');
SELECT is(test_helpers.gateway('T-1', 'expire', NULL, 'tx-2') ->> 'decision', 'noop',
          'expire of another transaction on a refunded order changes nothing');
SELECT is(test_helpers.status('T-1'), 'refunded', 'the order stays refunded');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:41,tx-2:32', 'the refund is not rewritten');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'capacity returned exactly once');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'nothing to review');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
