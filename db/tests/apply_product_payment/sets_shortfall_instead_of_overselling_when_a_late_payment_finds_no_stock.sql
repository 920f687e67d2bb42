-- Rule: a late payment of a released product order re-acquires from free stock
-- only; when there is not enough, payments_private.apply_product_payment draws
-- no pickup code, oversells nothing, sets orders.shortfall_at and reports the
-- effect 'review'.
BEGIN;
SELECT plan(6);

SELECT test_helpers.variant('V1', 1);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.product_order('P-2', 'V1', 1);              -- takes the released unit
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-2', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'P-1';
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = 'P-1';

CREATE TEMP TABLE result AS SELECT payments_private.apply_product_payment(test_helpers.ord('P-1')) AS r;
SELECT is((SELECT r ->> 'effect' FROM result), 'review', 'the effect asks for a review');
SELECT is((SELECT r -> 'missing' FROM result), '[{"sku": "V1", "free": 0, "missing": 1}]'::jsonb,
          'and says what is missing');
SELECT isnt((test_helpers.ord('P-1')).shortfall_at, NULL, 'shortfall_at is set');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'no pickup code is drawn');
SELECT is(test_helpers.variant_counts('V1'), '1/0', 'nothing is oversold');
SELECT is((test_helpers.ord('P-1')).repair, NULL, 'a short order is not a repair: people decide');

SELECT * FROM finish();
ROLLBACK;
