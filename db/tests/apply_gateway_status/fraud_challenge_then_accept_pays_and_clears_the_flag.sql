-- A challenged capture keeps the order pending with fraud_challenge open; the
-- merchant's accept pays it and closes the challenge automatically.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT is(test_helpers.gateway('T-1', 'capture', 'challenge', 'tx-1') ->> 'decision', 'flagged',
          'capture + challenge is flagged');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order stays pending during the challenge');
SELECT is(test_helpers.review('T-1'), 'fraud_challenge', 'flagged fraud_challenge');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets while challenged');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'capacity stays reserved');

SELECT is(test_helpers.gateway('T-1', 'capture', 'accept', 'tx-1') ->> 'decision', 'paid',
          'the merchant accepting the challenge pays the order');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'the fraud_challenge flag is cleared');
SELECT is(test_helpers.review_state('T-1', 'fraud_challenge', 'tx-1'), 'auto', 'closed automatically');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity is finalized');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
