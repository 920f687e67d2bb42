-- Rule: payments_private.apply_product_payment is idempotent: a second call on
-- a fulfilled order draws no new code, confirms nothing and keeps the marker.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 3);
-- paid in the ledger, the pay effect not run yet
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'P-1';
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = 'P-1';

CREATE TEMP TABLE first AS SELECT payments_private.apply_product_payment(test_helpers.ord('P-1')) AS r;
SELECT is((SELECT r ->> 'pickup_code_issued' FROM first), 'true', 'first call issues a pickup code');
SELECT test_helpers.backdate('P-1');
CREATE TEMP TABLE before AS
    SELECT (test_helpers.ord('P-1')).pickup_code AS code,
           (test_helpers.ord('P-1')).stock_confirmed_at AS confirmed;
SELECT is(test_helpers.variant_counts('V1'), '0/3', 'and confirms 3');

SELECT is(payments_private.apply_product_payment(test_helpers.ord('P-1')),
          '{"effect": "none", "reacquired": false, "items_confirmed": 0, "pickup_code_issued": false}'::jsonb,
          'second call does nothing');
SELECT is((test_helpers.ord('P-1')).pickup_code, (SELECT code FROM before), 'same pickup code');
SELECT is(test_helpers.variant_counts('V1'), '0/3', 'stock confirmed once');
SELECT is((test_helpers.ord('P-1')).stock_confirmed_at, (SELECT confirmed FROM before), 'same marker');
SELECT matches((test_helpers.ord('P-1')).pickup_code,
               '^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$',
               'pickup code format XXXX-XXXX over the unambiguous alphabet');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
