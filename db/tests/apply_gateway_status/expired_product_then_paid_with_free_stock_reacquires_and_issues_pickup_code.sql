-- A late payment of an expired product order re-acquires free stock straight
-- into sold and issues the pickup code.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'expired: stock released');

SELECT is(test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'late_payment',
          'a late payment of a product order');
SELECT is(test_helpers.status('P-1'), 'paid', 'the order is paid');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'a pickup code is issued');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'stock re-acquired straight into sold');
SELECT is((test_helpers.ord('P-1')).stock_released_at, NULL, 'the release marker is cleared');
SELECT isnt((test_helpers.ord('P-1')).stock_confirmed_at, NULL, 'stock_confirmed_at is set');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
