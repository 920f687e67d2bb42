-- tx-1 expired at Midtrans; tx-2 settled and was reversed. Delivered: tx-2's
-- deny, tx-1's late expire, then tx-2's retried settlement. The deny alone
-- keeps the order pending (an attempt failed), the expire closes the payment
-- window (released), and the retried settlement of the reversed transaction
-- is stale: it only records that tx-2 was paid (payment_reversed), nothing is
-- revived.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-2') ->> 'decision', 'attempt_failed',
          'a deny with nothing paid is a failed attempt: the order stays pending');
SELECT is(test_helpers.gateway('T-1', 'expire', NULL, 'tx-1') ->> 'decision', 'released',
          'the older attempt expiring closes the payment window and releases');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'flagged',
          'the retried settlement of the reversed transaction is flagged, not paid');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:32,tx-2:30', 'the stale settlement did not rewrite tx-2');
SELECT is(test_helpers.open_reviews('T-1'), 'payment_reversed:tx-2', 'the reversal is for a person to review');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.slot_counts('S1'), 'expired 0/0',
          'the order stays expired: nothing is held or sold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
