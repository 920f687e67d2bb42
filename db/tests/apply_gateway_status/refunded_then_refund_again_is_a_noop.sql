-- A repeated refund is a duplicate: the order stays refunded, capacity is
-- returned once.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 3);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'refund', NULL, 'tx-1');
SELECT is(test_helpers.slot_counts('S1'), '3/0', 'refunded: capacity returned');

SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-1') ->> 'decision', 'noop',
          'a repeated refund is a no-op');
SELECT is(test_helpers.status('T-1'), 'refunded', 'still refunded');
SELECT is(test_helpers.slot_counts('S1'), '3/0', 'capacity returned once, not twice');
SELECT is(test_helpers.decisions('T-1'), ARRAY['paid', 'refunded', 'noop'], 'all three events logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
