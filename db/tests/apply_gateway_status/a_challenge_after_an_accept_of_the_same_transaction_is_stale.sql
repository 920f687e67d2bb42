-- A capture/challenge is behind a capture/accept of the same transaction (the
-- challenge was decided): delivered late it is stale, rewrites nothing and
-- flags nothing; the order stays paid. The Status API saying challenge
-- instead disagrees with the record (gateway_disagreement).
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT is(test_helpers.gateway('T-1', 'capture', 'accept', 'tx-1') ->> 'decision', 'paid', 'the accept pays');

CREATE TEMP TABLE r ON COMMIT DROP AS SELECT test_helpers.gateway('T-1', 'capture', 'challenge', 'tx-1') AS r;
SELECT is((SELECT r ->> 'decision' FROM r), 'stale_ignored', 'the challenge delivered afterwards is stale');
SELECT is((SELECT r ->> 'ledger' FROM r), 'stale', 'for the ledger too');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:21', 'the accept is not rewritten');
SELECT is(test_helpers.review_state('T-1', 'fraud_challenge'), NULL, 'no fraud_challenge is ever opened');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1'), 'paid 2', 'the order stays paid');

SELECT is(test_helpers.gateway('T-1', 'capture', 'challenge', 'tx-1', NULL, 'sync') ->> 'decision',
          'gateway_disagreement', 'the Status API saying challenge disagrees with the record');
SELECT is(test_helpers.ledger('T-1') || ' ' || test_helpers.open_reviews('T-1'), 'tx-1:21 gateway_disagreement:tx-1:capture',
          'and rewrites nothing either');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
