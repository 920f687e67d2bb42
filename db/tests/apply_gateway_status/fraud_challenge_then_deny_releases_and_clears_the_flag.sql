BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-DENY', 'S1', 2);
SELECT test_helpers.ticket_order('T-FRAUD-DENY', 'S1', 3);
SELECT test_helpers.gateway('T-DENY', 'capture', 'challenge', 'tx-1');
SELECT test_helpers.gateway('T-FRAUD-DENY', 'settlement', 'challenge', 'tx-2');

SELECT is(test_helpers.gateway('T-DENY', 'deny', NULL, 'tx-1') ->> 'decision', 'released',
          'deny after a challenge releases');
SELECT is(test_helpers.status('T-DENY'), 'failed', 'the order is failed');
SELECT is((test_helpers.ord('T-DENY')).needs_review, false, 'the fraud_challenge flag is cleared');
SELECT is(test_helpers.gateway('T-FRAUD-DENY', 'settlement', 'deny', 'tx-2') ->> 'decision', 'released',
          'fraud_status deny after a challenge releases');
SELECT is(test_helpers.status('T-FRAUD-DENY'), 'failed', 'that order is failed too');
SELECT is((test_helpers.ord('T-FRAUD-DENY')).needs_review, false, 'and its flag is cleared');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'all capacity is back');
SELECT is((SELECT count(*) FROM payments.tickets), 0::bigint, 'no tickets were ever issued');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
