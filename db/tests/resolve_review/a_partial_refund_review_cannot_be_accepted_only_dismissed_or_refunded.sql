-- Rule: a partial refund covers the order (goods stay out) and opens the
-- tracking review partial_refund; accept has no meaning for it (PM012),
-- dismiss keeps the order paid, and a full refund at Midtrans closes it
-- automatically.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
-- the settlement notification was lost; the first news of the payment is a partial refund
SELECT test_helpers.gateway('T-1', 'partial_refund', NULL, 'tx-1');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1'), 'paid 2',
          'a partially refunded payment still covers the order: paid, tickets out');
SELECT is(test_helpers.review('T-1'), 'partial_refund', 'and waits for a person');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'partial_refund', 'accept')$$, 'PM012', NULL,
                 'accept has no meaning for a partial refund: PM012');
SELECT is(payments.resolve_review('T-1', 'partial_refund', 'dismiss') ->> 'status', 'paid',
          'dismiss keeps it paid');

SELECT test_helpers.gateway('T-2', 'settlement', NULL, 'tx-1'), test_helpers.gateway('T-2', 'partial_refund', NULL, 'tx-1');
SELECT test_helpers.gateway('T-2', 'refund', NULL, 'tx-1');
SELECT is(test_helpers.status('T-2'), 'refunded', 'refunded in full at Midtrans');
SELECT is((SELECT resolution FROM payments.order_reviews AS v JOIN payments.orders AS o ON o.id = v.order_id
            WHERE o.order_number = 'T-2' AND v.reason = 'partial_refund'), 'auto',
          'the partial_refund review closed itself');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
