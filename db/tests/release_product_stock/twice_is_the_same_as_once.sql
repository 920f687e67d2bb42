-- Rule: payments_private.release_product_stock is idempotent: the second call
-- releases nothing and keeps the stock_released_at marker.
BEGIN;
SELECT plan(6);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 3);
SELECT test_helpers.product_order('P-KEEP', 'V1', 2);
-- cancelled at Midtrans, the release effect not run yet
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount)
SELECT id, 'tx-1', 'cancel', 31, gross_amount FROM payments.orders WHERE order_number = 'P-1';
UPDATE payments.orders SET status = 'failed' WHERE order_number = 'P-1';

SELECT is(payments_private.release_product_stock(test_helpers.ord('P-1')) ->> 'reserved_released', '3',
          'first call releases 3');
SELECT test_helpers.backdate('P-1');
CREATE TEMP TABLE before AS SELECT (test_helpers.ord('P-1')).stock_released_at AS released;
SELECT is(test_helpers.variant_counts('V1'), '2/0', 'only the other order still holds stock');
SELECT is(payments_private.release_product_stock(test_helpers.ord('P-1')), '{"effect": "none"}'::jsonb,
          'second call does nothing');
SELECT is(test_helpers.variant_counts('V1'), '2/0', 'nothing released twice');
SELECT is((test_helpers.ord('P-1')).stock_released_at, (SELECT released FROM before), 'same marker');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
