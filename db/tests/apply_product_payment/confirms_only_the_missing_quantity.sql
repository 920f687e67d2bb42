-- Rule: payments_private.apply_product_payment confirms only the stock not yet
-- confirmed and keeps a pickup code already drawn, so a paid order left
-- half-fulfilled is completed without drawing twice.
BEGIN;
SELECT plan(7);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 3);
-- paid in the ledger; an interrupted earlier effect drew the pickup code and
-- confirmed 1 of 3, the marker is not set
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'P-1';
UPDATE payments.orders SET status = 'paid', paid_at = now(), pickup_code = 'ABCD-EFGH' WHERE order_number = 'P-1';
UPDATE payments.product_order_items SET finalized_quantity = 1;
UPDATE payments.product_variants SET reserved_stock = 2, sold = 1 WHERE sku = 'V1';
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE invariant = 'counter_drift'$$,
                'the half-done state is consistent (no counter drift)');

CREATE TEMP TABLE result AS SELECT payments_private.apply_product_payment(test_helpers.ord('P-1')) AS r;
SELECT is((SELECT r ->> 'pickup_code_issued' FROM result), 'false', 'no new pickup code is drawn');
SELECT is((test_helpers.ord('P-1')).pickup_code, 'ABCD-EFGH', 'the existing pickup code is kept');
SELECT is(test_helpers.variant_counts('V1'), '0/3', 'only the missing 2 are confirmed: 0/3');
SELECT is(test_helpers.finalized('P-1'), 3::bigint, 'finalized_quantity = quantity');
SELECT isnt((test_helpers.ord('P-1')).stock_confirmed_at, NULL, 'stock_confirmed_at is set');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
