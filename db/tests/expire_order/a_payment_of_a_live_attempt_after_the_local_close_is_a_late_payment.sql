-- Rule: a window closed locally while an attempt was still live does not lose
-- the customer's money: a later settlement of that attempt pays the order late,
-- re-acquiring from free capacity, or, when it was resold, flags
-- paid_after_release without overselling.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-1'), test_helpers.gateway('T-2', 'pending', NULL, 'tx-2');
SELECT payments.expire_order('T-1', 'manual', NULL, true), payments.expire_order('T-2', 'manual', NULL, true);
SELECT test_helpers.ticket_order('T-3', 'S1', 1);   -- takes one of the two released seats

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1') ->> 'decision', 'late_payment',
          'the live attempt of T-1 settles: a late payment');
SELECT is(test_helpers.active_tickets('T-1'), 1::bigint, 'its ticket comes from the free seat');
SELECT is(test_helpers.gateway('T-2', 'settlement', NULL, 'tx-2') ->> 'decision', 'late_payment_review',
          'T-2 settles too, but no seat is free');
SELECT is(test_helpers.review('T-2'), 'paid_after_release', 'it is flagged paid_after_release');
SELECT is(test_helpers.slot_counts('S1'), '1/1', 'nothing is oversold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
