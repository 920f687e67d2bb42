-- Every extra payment of an order is money someone has to return, so each one
-- must be seen by a person. tx-A pays, tx-B pays again (duplicate_payment),
-- an operator settles that with Midtrans and dismisses the review; then the
-- customer pays a third time (tx-C). That third payment must open a review
-- again: it is a new fact, not the one the operator decided on.
-- The review's subject lists the paid transactions, so the decision on
-- "tx-A,tx-B" does not cover "tx-A,tx-B,tx-C".
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-A');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-B') ->> 'decision', 'flagged',
          'the second payment is flagged');
SELECT is(payments.resolve_review('T-1', 'duplicate_payment', 'dismiss', 'tx-B refunded in the dashboard')
              ->> 'needs_review', 'false', 'an operator deals with it and dismisses the review');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-C') ->> 'decision', 'flagged',
          'a third payment is flagged again');
SELECT is(test_helpers.review('T-1'), 'duplicate_payment', 'duplicate_payment is open again');
SELECT is(test_helpers.open_reviews('T-1'), 'duplicate_payment:tx-A,tx-B,tx-C', 'about all three payments');
SELECT is((test_helpers.ord('T-1')).needs_review, true, 'the order needs review');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1') || ' ' || test_helpers.slot_counts('S1'),
          'paid 2 0/2', 'the goods are out once, whatever was paid');

SELECT * FROM finish();
ROLLBACK;
