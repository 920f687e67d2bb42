-- A refund of the paying transaction refunds the order: tickets voided, sold
-- capacity returned, no review (a full refund needs none).
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-1') ->> 'decision', 'refunded',
          'refund on a paid order is decided "refunded"');
SELECT is(test_helpers.status('T-1'), 'refunded', 'the order is refunded');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'its tickets are voided');
SELECT is(test_helpers.all_tickets('T-1'), 3::bigint, 'voided, not deleted');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'sold capacity is returned');
SELECT isnt((test_helpers.ord('T-1')).capacity_released_at, NULL, 'capacity_released_at is set');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'a full refund needs no review');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
