-- Rule: advance_clock is time passing. An order whose hold runs out while the
-- clock moves is past expiry for orders_past_expiry, find_mismatches and
-- start_sync at once, and reconcile closes and releases it without anyone
-- waiting or rewriting expires_at; the rows it writes carry the moved time,
-- so the order's timeline stays in order (created < expires < closed).
BEGIN;
SELECT plan(15);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);       -- expires clock_now() + 1 hour
SELECT test_helpers.variant('SKU-1', 5);
SELECT test_helpers.product_order('P-1', 'SKU-1', 1);

SELECT is_empty($$SELECT * FROM payments.orders_past_expiry()$$, 'nothing past expiry yet');
SELECT is_empty($$SELECT order_number FROM payments.start_sync('10 minutes') WHERE order_number IS NOT NULL$$, 'nor older than 10 minutes for sync');
SELECT is(payments.apply_status_not_found('T-1', 'reconcile', '15 minutes') ->> 'decision', 'not_closed',
          'reconcile may not close an order whose hold still runs');

SELECT is(payments.advance_clock('1 hour 20 minutes'), now() + interval '1 hour 20 minutes',
          'advance_clock returns the new clock_now(): now() + the offset');
SELECT is(payments.clock_now(), now() + interval '1 hour 20 minutes', 'clock_now() follows');

SELECT results_eq($$SELECT order_number FROM payments.orders_past_expiry()$$,
                  $$VALUES ('T-1'), ('P-1')$$,
                  'both orders are past expires_at + 15 minutes of grace now');
SELECT results_eq($$SELECT check_name, order_number FROM payments.find_mismatches() ORDER BY 2 DESC$$,
                  $$VALUES ('needs_gateway_status', 'T-1'), ('needs_gateway_status', 'P-1')$$,
                  'find_mismatches reports them for Midtrans');
SELECT results_eq($$SELECT order_number FROM payments.start_sync('10 minutes') WHERE order_number IS NOT NULL ORDER BY 1$$,
                  $$VALUES ('P-1'), ('T-1')$$, 'sync finds them old enough and due');

SELECT is(payments.apply_status_not_found('T-1', 'reconcile', '15 minutes') ->> 'new_status', 'expired',
          'reconcile closes the ticket order as soon as Midtrans has nothing for it');
SELECT is(payments.expire_order('P-1', 'reconcile', '15 minutes') ->> 'new_status', 'expired',
          'and the product order');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('SKU-1'), '0/0 0/0',
          'capacity and stock are back');

SELECT ok((SELECT o.created_at < o.expires_at AND o.expires_at < o.expired_locally_at
                  AND o.expired_locally_at = now() + interval '1 hour 20 minutes'
                  AND o.updated_at = o.expired_locally_at
             FROM payments.orders AS o WHERE o.order_number = 'T-1'),
          'the order''s timeline: created, expires, closed at the moved time');
SELECT ok((SELECT bool_and(l.created_at >= now() + interval '1 hour 20 minutes')
             FROM payments.webhook_logs AS l WHERE l.order_number IN ('T-1', 'P-1')
              AND l.detail ->> 'new_status' = 'expired'),
          'the decisions are logged at the moved time too');
SELECT is((SELECT ahead_by FROM payments.clock), interval '1 hour 20 minutes',
          'payments.clock records how far ahead the clock is');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
