-- A refund of a transaction other than the paying one does not refund the
-- order: the paying transaction still covers the price, so the order stays
-- paid with its goods. The refunded transaction was paid too (a refund shows
-- it), so duplicate_payment is opened for a person to check.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-2') ->> 'decision', 'flagged',
          'a refund of a transaction that did not pay this order is flagged');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order stays paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'its tickets stay active');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'its capacity stays sold');
SELECT is(test_helpers.open_reviews('T-1'), 'duplicate_payment:tx-1,tx-2', 'flagged duplicate_payment');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:22,tx-2:41', 'the refund is recorded for its own transaction');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
