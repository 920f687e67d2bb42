-- Rule: dismiss closes the one review named and changes nothing else: the
-- order keeps its status, tickets and counters; the decision is logged as
-- review_resolved / dismiss with the reason.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, test_helpers.slot_counts('S1') AS counts;

SELECT is(payments.resolve_review('T-1', 'chargeback', 'dismiss', 'chargeback won') ->> 'status', 'paid',
          'still paid');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'needs_review is cleared');
SELECT is(test_helpers.review('T-1'), NULL, 'no open review is left');
SELECT is((SELECT resolution || ' / ' || note FROM payments.order_reviews WHERE reason = 'chargeback'),
          'dismiss / chargeback won', 'the review row records the resolution and the note');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'tickets untouched');
SELECT is(test_helpers.slot_counts('S1'), (SELECT counts FROM before), 'counters untouched');
SELECT is(test_helpers.outcomes('T-1', 'review_resolved'), ARRAY['dismiss'], 'logged as review_resolved / dismiss');
SELECT is((SELECT detail ->> 'reason' FROM payments.webhook_logs WHERE event_type = 'review_resolved'),
          'chargeback', 'with the reason dismissed');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
