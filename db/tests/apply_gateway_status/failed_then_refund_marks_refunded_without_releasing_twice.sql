BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 5);
SELECT test_helpers.gateway('T-1', 'failure', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-1') ->> 'decision', 'refunded',
          'refund on a failed order is decided "refunded"');
SELECT is(test_helpers.status('T-1'), 'refunded', 'the order is marked refunded');
SELECT is(test_helpers.slot_counts('S1'), '5/0', 'nothing is released a second time');
SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-1') -> 'effects', '[]'::jsonb,
          'a repeated refund has no effect');
SELECT is(test_helpers.slot_counts('S1'), '5/0', 'still 5/0');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
