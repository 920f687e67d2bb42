-- A payment for less than the price does not cover it: the order stays
-- pending (goods held, nothing issued) and amount_mismatch is opened for the
-- transaction. The same amount written with decimals is no mismatch.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.ticket_order('T-2', 'S1', 2, 100000);

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', 1000) ->> 'decision',
          'flagged', 'a settlement for less than the price is flagged');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order stays pending');
SELECT is(test_helpers.open_reviews('T-1'), 'amount_mismatch:tx-1', 'amount_mismatch is open for that transaction');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets are issued');
SELECT is(test_helpers.finalized('T-1'), 0::bigint, 'nothing finalized');
SELECT is((test_helpers.ord('T-1')).paid_at, NULL, 'no paid_at');
SELECT is((test_helpers.tx('T-1', 'tx-1')).gross_amount::numeric, 1000.00::numeric(14,2), 'the ledger keeps the amount paid');
-- the same amount written with decimals (Midtrans sends "100000.00") is not a mismatch
SELECT is(test_helpers.gateway('T-2', 'settlement', NULL, 'tx-2', 100000.00) ->> 'decision', 'paid',
          'a matching amount with decimals pays');
SELECT is(test_helpers.slot_counts('S1'), '2/2', 'T-1 still holds its reservation, T-2 is sold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
