-- A cancel closes the payment window (failed, capacity released); a new
-- transaction paying afterwards is a late payment that re-acquires free
-- capacity. (A deny does not close the window: see
-- a_new_transaction_pays_normally_after_a_denied_attempt_even_when_the_slot_is_full.)
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'cancel', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'late_payment',
          'a new transaction paying a failed order is a late payment');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'tickets issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity re-acquired and sold');
SELECT is(test_helpers.decisions('T-1'), ARRAY['released', 'late_payment'], 'decisions logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
