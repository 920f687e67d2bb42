-- A person dismisses a gateway_disagreement (the Status API said pending for
-- a recorded settlement; checked in the dashboard, fine). Every later sync
-- that says the same thing must not reopen it, or operators drown in repeats;
-- but Midtrans saying something new about that transaction (expire) is a new
-- fact and asks a person again. The subject is `transaction_id:status`, and a
-- transaction id names its disagreements in resolve_review.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', NULL, 'webhook');
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-1', NULL, 'sync');
SELECT is(test_helpers.open_reviews('T-1'), 'gateway_disagreement:tx-1:pending', 'the disagreement is flagged');
SELECT is(payments.resolve_review('T-1', 'gateway_disagreement', 'dismiss', 'checked', 'tx-1') ->> 'needs_review',
          'false', 'a person dismisses it, naming the transaction');

SELECT is(test_helpers.gateway('T-1', 'pending', NULL, 'tx-1', NULL, 'sync') ->> 'decision',
          'gateway_disagreement', 'the next sync still disagrees');
SELECT is(test_helpers.open_reviews('T-1'), NULL, 'but the dismissed disagreement is not reopened');

SELECT is(test_helpers.gateway('T-1', 'expire', NULL, 'tx-1', NULL, 'sync') ->> 'decision',
          'gateway_disagreement', 'Midtrans now says expire');
SELECT is(test_helpers.open_reviews('T-1'), 'gateway_disagreement:tx-1:expire', 'a new disagreement is flagged');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1'), 'paid 2',
          'the order is left as it was for a person to decide');

SELECT * FROM finish();
ROLLBACK;
