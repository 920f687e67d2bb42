-- A new transaction paying an expired ticket order is a late payment: free
-- capacity is re-acquired straight into sold and the tickets are issued.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 3);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'expired: capacity released');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'late_payment',
          'a new transaction paying an expired order is a late payment');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid');
SELECT is(test_helpers.active_tickets('T-1'), 3::bigint, 'all tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'capacity re-acquired straight into sold');
SELECT is((test_helpers.ord('T-1')).capacity_released_at, NULL, 'the release marker is cleared');
SELECT isnt((test_helpers.ord('T-1')).tickets_issued_at, NULL, 'tickets_issued_at is set');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'nothing to review');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:32,tx-2:22', 'the paying transaction is recorded beside the expired one');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
