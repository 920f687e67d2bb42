-- Rule: a late payment of a released ticket order re-acquires from free
-- capacity only; when there is not enough, payments_private.apply_ticket_payment
-- issues nothing, oversells nothing, sets orders.shortfall_at and reports the
-- effect 'review' (the caller opens paid_after_release).
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 3);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);               -- takes the released seats
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-2', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'T-1';
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = 'T-1';

CREATE TEMP TABLE result AS SELECT payments_private.apply_ticket_payment(test_helpers.ord('T-1')) AS r;
SELECT is((SELECT r ->> 'effect' FROM result), 'review', 'the effect asks for a review');
SELECT is((SELECT r -> 'missing' FROM result), '[{"free": 1, "slot": "S1", "missing": 2}]'::jsonb,
          'and says what is missing');
SELECT isnt((test_helpers.ord('T-1')).shortfall_at, NULL, 'shortfall_at is set');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no ticket is issued');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing is oversold');
SELECT is((test_helpers.ord('T-1')).repair, NULL, 'a short order is not a repair: people decide');

SELECT test_helpers.backdate('T-1');
CREATE TEMP TABLE before AS SELECT (test_helpers.ord('T-1')).shortfall_at AS at;
SELECT is(payments_private.apply_ticket_payment(test_helpers.ord('T-1')) ->> 'effect', 'review',
          'a second call is short again');
SELECT is((test_helpers.ord('T-1')).shortfall_at, (SELECT at FROM before), 'and keeps the first shortfall time');

SELECT * FROM finish();
ROLLBACK;
