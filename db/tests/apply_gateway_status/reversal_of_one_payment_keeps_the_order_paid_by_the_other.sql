-- tx-1 paid; tx-2 paid the same order again (duplicate_payment); then tx-1 is
-- reversed. tx-2 still covers the price: the order stays paid with its
-- tickets, and the reversal is flagged too. Refunding tx-2 then refunds the
-- order.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'flagged',
          'a second payment is flagged');
SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') ->> 'decision', 'flagged',
          'reversing the first payment leaves the second standing: only flagged');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order stays paid');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:30,tx-2:22', 'now by the second transaction');
SELECT is(test_helpers.open_reviews('T-1'), 'duplicate_payment:tx-1,tx-2,payment_reversed:tx-1',
          'both flags stay open for a person');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the tickets stay valid');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'and sold');
SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-2') ->> 'decision', 'refunded',
          'refunding the remaining payment refunds the order');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.active_tickets('T-1'), '0/0 0',
          'and returns its capacity');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
