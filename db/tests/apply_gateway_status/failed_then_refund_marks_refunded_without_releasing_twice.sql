-- A refund on a failed (cancelled, released) order marks it refunded and
-- releases nothing a second time; a refund of the cancelled transaction
-- itself is stale (Midtrans cannot refund it); a repeated refund has no
-- effect.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 5);
SELECT test_helpers.gateway('T-1', 'cancel', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'a refund of the cancelled transaction is stale');
SELECT is(test_helpers.status('T-1'), 'failed', 'the order stays failed');
SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-2') ->> 'decision', 'refunded',
          'a refund of another transaction on a failed order is decided "refunded"');
SELECT is(test_helpers.status('T-1'), 'refunded', 'the order is marked refunded');
SELECT is(test_helpers.slot_counts('S1'), '5/0', 'nothing is released a second time');
SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-2') -> 'effects', '[]'::jsonb,
          'a repeated refund has no effect');
SELECT is(test_helpers.slot_counts('S1'), '5/0', 'still 5/0');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
