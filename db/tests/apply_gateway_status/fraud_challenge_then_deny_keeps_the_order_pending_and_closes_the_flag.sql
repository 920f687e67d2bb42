-- A challenged capture denied by the merchant (deny, or capture / settlement
-- with fraud_status deny) is a failed attempt: the payment window stays open,
-- so the order stays pending with its seats held, and fraud_challenge (a
-- tracking review) is closed automatically. Closing the window releases.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-DENY', 'S1', 2);
SELECT test_helpers.ticket_order('T-FRAUD-DENY', 'S1', 3);
SELECT test_helpers.gateway('T-DENY', 'capture', 'challenge', 'tx-1');
SELECT test_helpers.gateway('T-FRAUD-DENY', 'settlement', 'challenge', 'tx-2');
SELECT is(test_helpers.review('T-DENY') || ' ' || test_helpers.review('T-FRAUD-DENY'),
          'fraud_challenge fraud_challenge', 'both challenges are flagged');

SELECT is(test_helpers.gateway('T-DENY', 'deny', NULL, 'tx-1') ->> 'decision', 'attempt_failed',
          'deny after a challenge is a failed attempt');
SELECT is(test_helpers.status('T-DENY'), 'pending', 'the order stays pending');
SELECT is(test_helpers.review_state('T-DENY', 'fraud_challenge', 'tx-1'), 'auto',
          'the fraud_challenge review is closed automatically');
SELECT is(test_helpers.gateway('T-FRAUD-DENY', 'settlement', 'deny', 'tx-2') ->> 'decision', 'attempt_failed',
          'fraud_status deny after a challenge is a failed attempt too');
SELECT is(test_helpers.status('T-FRAUD-DENY'), 'pending', 'that order stays pending too');
SELECT is((test_helpers.ord('T-FRAUD-DENY')).needs_review, false, 'and nothing is left to review');
SELECT is(test_helpers.slot_counts('S1'), '5/0', 'both keep their seats while the window is open');

SELECT payments.expire_order(o) FROM unnest(ARRAY['T-DENY', 'T-FRAUD-DENY']) AS o;
SELECT is(test_helpers.status('T-DENY') || ' ' || test_helpers.slot_counts('S1'), 'expired 0/0',
          'closing the window releases all capacity');
SELECT is((SELECT count(*) FROM payments.tickets), 0::bigint, 'no tickets were ever issued');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
