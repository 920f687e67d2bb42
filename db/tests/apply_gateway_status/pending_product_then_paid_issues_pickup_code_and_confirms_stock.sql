-- A capture accepted for the price pays a pending product order: a pickup
-- code is issued and the reserved stock is sold.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 5);
SELECT test_helpers.product_order('P-1', 'V1', 2);

SELECT is(test_helpers.variant_counts('V1'), '2/0', 'stock is reserved while pending');
SELECT is(test_helpers.gateway('P-1', 'capture', 'accept') ->> 'decision', 'paid',
          'capture + accept on a pending product order is decided "paid"');
SELECT is(test_helpers.status('P-1'), 'paid', 'the order is paid');
SELECT matches((test_helpers.ord('P-1')).pickup_code,
               '^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$',
               'a pickup code is issued');
SELECT isnt((test_helpers.ord('P-1')).stock_confirmed_at, NULL, 'stock_confirmed_at is set');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'stock moved from reserved to sold');
SELECT is((test_helpers.tx('P-1', 'tx-1')).gross_amount::numeric, 75000.00::numeric(14,2), 'the paid amount is in the ledger');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
