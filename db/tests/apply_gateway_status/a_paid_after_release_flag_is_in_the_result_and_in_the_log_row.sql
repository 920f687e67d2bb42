-- Rule: when a payment finds no room left (paid_after_release), the review it
-- opens is named both in the call's result (reviews_opened) and in the logged
-- decision (detail.reviews.open), so an operator reading the log sees why the
-- order was flagged.
BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT payments.expire_order('T-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 1);    -- takes the only seat

CREATE TEMP TABLE r AS SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1') AS r;
SELECT is((SELECT r ->> 'decision' FROM r), 'late_payment_review', 'paid, but no seat left');
SELECT is((SELECT r -> 'reviews_opened' FROM r), '[{"reason": "paid_after_release", "subject": ""}]'::jsonb,
          'the result names paid_after_release');
SELECT is((SELECT detail -> 'reviews' -> 'open' FROM payments.webhook_logs
            WHERE event_type = 'gateway_status' AND order_number = 'T-1' AND outcome = 'late_payment_review'),
          '[{"reason": "paid_after_release", "subject": ""}]'::jsonb, 'and so does the log row');

SELECT * FROM finish();
ROLLBACK;
