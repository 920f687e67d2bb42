-- Rule: payments_private.goods runs the effect the order's status calls for:
-- paid -> the pay effect, pending -> the hold effect, failed / expired /
-- refunded -> the release effect, each dispatched by kind; each is idempotent,
-- so calling goods on an order whose goods already follow its status does nothing.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 2);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 1);
SELECT test_helpers.product_order('P-PAID', 'V1', 1);
SELECT test_helpers.product_order('P-FAILED', 'V1', 1);
-- the ledger decided, the statuses are set, the goods effects have not run
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', x.ts, x.stage, gross_amount, x.stage = 22
  FROM payments.orders
  JOIN (VALUES ('T-PAID', 'settlement', 22), ('T-EXPIRED', 'expire', 32), ('P-PAID', 'settlement', 22),
               ('P-FAILED', 'cancel', 31)) AS x (order_number, ts, stage) USING (order_number);
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number IN ('T-PAID', 'P-PAID');
UPDATE payments.orders SET status = 'expired' WHERE order_number = 'T-EXPIRED';
UPDATE payments.orders SET status = 'failed' WHERE order_number = 'P-FAILED';

SELECT is(payments_private.goods(test_helpers.ord('T-PAID'), NULL) ->> 'effect', 'tickets_issued',
          'paid ticket order: tickets issued');
SELECT is(payments_private.goods(test_helpers.ord('P-PAID'), NULL) ->> 'effect', 'stock_confirmed',
          'paid product order: stock confirmed');
SELECT is(payments_private.goods(test_helpers.ord('T-EXPIRED'), NULL) ->> 'effect', 'capacity_released',
          'expired ticket order: capacity released');
SELECT is(payments_private.goods(test_helpers.ord('P-FAILED'), NULL) ->> 'effect', 'stock_released',
          'failed product order: stock released');
SELECT is((SELECT array_agg(payments_private.goods(o, NULL) ->> 'effect' ORDER BY o.id) FROM payments.orders AS o),
          ARRAY['none', 'none', 'none', 'none'], 'a second round does nothing');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '0/2 0/1',
          'only the paid orders hold goods');
SELECT is_empty('SELECT order_number FROM payments.orders WHERE repair IS NOT NULL', 'nothing left to repair');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
