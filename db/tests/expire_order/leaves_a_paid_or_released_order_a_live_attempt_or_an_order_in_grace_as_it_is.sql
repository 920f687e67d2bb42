-- Rule: expire_order refuses (decision not_closed, logged with why_not, order
-- untouched) to close a paid or already released order, an order with a live
-- attempt at Midtrans (pending / authorised / challenged) unless even_if_live,
-- and an order not yet past expires_at + the grace given.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 1);
SELECT test_helpers.ticket_order('T-LIVE', 'S1', 1);
SELECT test_helpers.ticket_order('T-CHALLENGED', 'S1', 1);
SELECT test_helpers.ticket_order('T-FRESH', 'S1', 1);
SELECT test_helpers.gateway('T-PAID', 'settlement');
SELECT test_helpers.gateway('T-LIVE', 'pending');
SELECT test_helpers.gateway('T-CHALLENGED', 'capture', 'challenge');

SELECT is(payments.expire_order('T-PAID') ->> 'why_not', 'order is paid', 'a paid order is not closed');
SELECT is(payments.expire_order('T-LIVE') ->> 'why_not', 'a payment attempt is still live',
          'an order with a pending attempt is not closed');
SELECT is(payments.expire_order('T-CHALLENGED') ->> 'why_not', 'a payment attempt is still live',
          'nor one with a challenged attempt');
SELECT is(payments.expire_order('T-FRESH', 'reconcile', '15 minutes') ->> 'why_not', 'not past expires_at + grace',
          'nor one not yet past expires_at + grace');
SELECT is(ARRAY[test_helpers.status('T-PAID'), test_helpers.status('T-LIVE'), test_helpers.status('T-CHALLENGED'),
                test_helpers.status('T-FRESH')], ARRAY['paid', 'pending', 'pending', 'pending'], 'all untouched');
SELECT is((SELECT count(*) FROM payments.webhook_logs WHERE outcome = 'not_closed'), 4::bigint,
          'each refusal is logged as not_closed');
SELECT is(test_helpers.slot_counts('S1'), '3/1', 'no capacity was released');

SELECT is(payments.expire_order('T-LIVE', 'manual', NULL, true) ->> 'new_status', 'expired',
          'even_if_live closes an order with a live attempt');
UPDATE payments.orders SET expires_at = now() - interval '1 hour' WHERE order_number = 'T-FRESH';
SELECT is(payments.expire_order('T-FRESH', 'reconcile', '15 minutes') ->> 'new_status', 'expired',
          'past expires_at + grace it is closed');

SELECT * FROM finish();
ROLLBACK;
