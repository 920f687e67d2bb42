-- A late payment reversed after the window closed releases exactly what it
-- re-acquired; a later payment is again a late payment with new tickets.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 5);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 1);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');
SELECT is(test_helpers.slot_counts('S1'), '1/2', 'late payment re-acquired 2 seats');

SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-2') ->> 'decision', 'reversed',
          'the late payment is reversed');
SELECT is(test_helpers.slot_counts('S1'), '1/0', 'exactly the re-acquired seats are returned');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'its tickets are voided');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-3') ->> 'decision', 'late_payment',
          'yet another new payment is again a late payment');
SELECT is(test_helpers.ticket_seqs('T-1'), ARRAY[3, 4], 'new tickets continue after the voided seqs');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
