-- Recorded settlement, Midtrans' Status API now says pending for the same
-- transaction: what was recorded did not come from Midtrans as it stands.
-- Not "stale": the order is flagged for review with a reason of its own.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', NULL, 'webhook');

SELECT is(test_helpers.gateway('T-1', 'pending', NULL, 'tx-1', NULL, 'webhook') ->> 'decision',
          'stale_ignored', 'a late pending notification is only stale');
SELECT is(test_helpers.review('T-1'), NULL, 'and flags nothing');
SELECT is(test_helpers.gateway('T-1', 'pending', NULL, 'tx-1', NULL, 'sync') ->> 'decision',
          'gateway_disagreement', 'the Status API saying pending disagrees with the record');
SELECT is(test_helpers.review('T-1'), 'gateway_disagreement', 'the order is flagged for review');
SELECT is(test_helpers.status('T-1'), 'paid', 'its status is left for people to decide');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'and so are its tickets');
SELECT is((SELECT transaction_status FROM payments.gateway_transactions), 'settlement',
          'the recorded transaction is not rewritten');

SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.gateway('T-2', 'settlement', NULL, 'tx-2', NULL, 'webhook');
SELECT is(test_helpers.gateway('T-2', 'expire', NULL, 'tx-2', NULL, 'reconcile') ->> 'decision',
          'gateway_disagreement', 'Midtrans saying the paying transaction expired disagrees too');
SELECT is((SELECT transaction_status FROM payments.gateway_transactions WHERE transaction_id = 'tx-2'),
          'settlement', 'and does not rewrite it');

SELECT * FROM finish();
ROLLBACK;
