-- Issue 10, "a flag is overwritten, then erased": tx-B settles 99999 on a
-- 100000 order (amount_mismatch), tx-A's capture is challenged
-- (fraud_challenge), tx-A is denied. Reviews are rows: the challenge opens its
-- own review instead of replacing amount_mismatch, and the deny closes only
-- the challenge (a tracking review, resolution 'auto'). amount_mismatch stays
-- open until a person decides, also after the order is released. Nothing is
-- given away.
BEGIN;
SELECT plan(13);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-B', 99999) ->> 'decision', 'flagged',
          'tx-B paying 99999 is flagged');
SELECT is(test_helpers.open_reviews('T-1'), 'amount_mismatch:tx-B', 'amount_mismatch is open');
SELECT is(test_helpers.gateway('T-1', 'capture', 'challenge', 'tx-A') ->> 'decision', 'flagged',
          'tx-A''s challenged capture is flagged');
SELECT is(test_helpers.open_reviews('T-1'), 'amount_mismatch:tx-B,fraud_challenge:tx-A',
          'beside amount_mismatch, not instead of it');

SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-A') ->> 'decision', 'attempt_failed',
          'tx-A denied: a failed attempt');
SELECT is(test_helpers.open_reviews('T-1'), 'amount_mismatch:tx-B', 'amount_mismatch is still open');
SELECT is(test_helpers.review_state('T-1', 'fraud_challenge', 'tx-A'), 'auto',
          'fraud_challenge was closed automatically');
SELECT is((SELECT resolved_by FROM payments.order_reviews WHERE reason = 'fraud_challenge'), 'auto',
          'by nobody but the event');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.all_tickets('T-1') || ' ' || test_helpers.slot_counts('S1'),
          'pending 0 2/0', 'nothing given away: pending, no tickets, seats held');

SELECT is(payments.expire_order('T-1') ->> 'decision', 'released', 'expire_order closes the window');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.slot_counts('S1'), 'expired 0/0', 'the order is released');
SELECT is(test_helpers.open_reviews('T-1'), 'amount_mismatch:tx-B', 'and amount_mismatch is still open');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
