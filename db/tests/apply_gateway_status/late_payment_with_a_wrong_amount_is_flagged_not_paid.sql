-- A late payment (after the window closed) for less than the price does not
-- cover the order: it stays expired, nothing is re-acquired, and
-- amount_mismatch is opened for the transaction.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2', 50000) ->> 'decision',
          'flagged', 'a late payment for the wrong amount is flagged');
SELECT is(test_helpers.status('T-1'), 'expired', 'the order stays expired');
SELECT is(test_helpers.open_reviews('T-1'), 'amount_mismatch:tx-2', 'flagged amount_mismatch');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'no capacity taken');
SELECT is((test_helpers.ord('T-1')).capacity_released_at IS NOT NULL, true, 'the order still holds nothing');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
