-- Rule: orders.needs_review is true exactly while the order has an open review
-- (needs_review_matches_reviews): a flag without a review and an open review
-- without the flag are both reported.
BEGIN;
SELECT plan(4);
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-FLAG-ONLY', 'S1', 1);
SELECT test_helpers.ticket_order('T-REVIEW-ONLY', 'S1', 1);
SELECT test_helpers.ticket_order('T-OK', 'S1', 1);
SELECT test_helpers.gateway('T-OK', 'settlement', 'challenge');   -- fraud_challenge, flagged properly
UPDATE payments.orders SET needs_review = true WHERE order_number = 'T-FLAG-ONLY';
INSERT INTO payments.order_reviews (order_id, reason)
SELECT id, 'gateway_disagreement' FROM payments.orders WHERE order_number = 'T-REVIEW-ONLY';

SELECT results_eq($$SELECT subject, detail FROM payments.check_invariants()
                    WHERE invariant = 'needs_review_matches_reviews' ORDER BY subject$$,
                  $$VALUES ('order T-FLAG-ONLY', '{"needs_review": true}'::jsonb),
                           ('order T-REVIEW-ONLY', '{"needs_review": false}'::jsonb)$$,
                  'a flag without a review and a review without the flag are reported');
SELECT is((test_helpers.ord('T-OK')).needs_review, true, 'a properly flagged order ...');
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE subject = 'order T-OK'$$, '... is not reported');

UPDATE payments.orders SET needs_review = NOT needs_review WHERE order_number IN ('T-FLAG-ONLY', 'T-REVIEW-ONLY');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold once the flags match');

SELECT * FROM finish();
ROLLBACK;
