-- Issue 10, "a reversal is covered by a smaller payment": tx-A settles the
-- full 150000, tx-B settles 1.00 on the same order, then tx-A is denied (a
-- reversal). What stands is 1.00, which does not cover the price: the goods
-- are taken back (tickets voided, the seats held again while the window is
-- open) and every fact is flagged: duplicate_payment, amount_mismatch of tx-B,
-- payment_reversed of tx-A. The order never stays paid on the smaller payment.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 150000);

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-A') ->> 'decision', 'paid', 'tx-A pays');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-B', 1.00) ->> 'decision', 'flagged',
          'tx-B paying 1.00 on a paid order is flagged');
SELECT is(test_helpers.open_reviews('T-1'), 'amount_mismatch:tx-B,duplicate_payment:tx-A,tx-B',
          'as a second payment, of the wrong amount');

SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-A') ->> 'decision', 'reversed',
          'reversing tx-A reverses the order: 1.00 does not cover 150000');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is pending (the window is open)');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'its tickets are voided');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'its seats are held again, not sold');
SELECT is(test_helpers.open_reviews('T-1'),
          'amount_mismatch:tx-B,duplicate_payment:tx-A,tx-B,payment_reversed:tx-A',
          'duplicate_payment, amount_mismatch (tx-B) and payment_reversed (tx-A) are open');
SELECT is(test_helpers.ledger('T-1'), 'tx-A:30,tx-B:22', 'the ledger holds the reversal and the small payment');

SELECT is(payments.expire_order('T-1') ->> 'decision', 'released', 'closing the window releases');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.slot_counts('S1') || ' ' || test_helpers.review('T-1'),
          'expired 0/0 amount_mismatch,duplicate_payment,payment_reversed',
          'the order is expired, its seats free, every review still open');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
