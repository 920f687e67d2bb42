-- A late payment of a ticket order whose seats were taken meanwhile is paid
-- but issues nothing: paid_after_release is opened, nothing is oversold.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 3);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
-- meanwhile someone else takes the freed capacity
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'only 1 seat is free now');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision',
          'late_payment_review', 'the late payment is decided late_payment_review');
SELECT is(test_helpers.status('T-1'), 'paid', 'the money fact is kept: the order is paid');
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'flagged paid_after_release');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing oversold: counters unchanged');
SELECT is(test_helpers.finalized('T-1'), 0::bigint, 'nothing finalized');
SELECT isnt((test_helpers.ord('T-1')).capacity_released_at, NULL, 'the order still holds nothing');
SELECT is(test_helpers.decisions('T-1'), ARRAY['released', 'late_payment_review'],
          'both events are logged with their decision');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
