-- A deny of the paying transaction (a reversal) while the payment window is
-- open takes the goods back but keeps them for the customer: the pickup code
-- is withdrawn, sold stock goes back to the order's reservation, the order is
-- pending and payment_reversed is open. Closing the window returns the stock.
BEGIN;
SELECT plan(10);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 4);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
SELECT is(test_helpers.variant_counts('V1'), '0/4', 'paid: stock sold');

SELECT is(test_helpers.gateway('P-1', 'deny', NULL, 'tx-1') ->> 'decision', 'reversed',
          'deny on the paying transaction is a reversal');
SELECT is(test_helpers.status('P-1'), 'pending', 'the order is pending again');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'its pickup code is withdrawn');
SELECT is((test_helpers.ord('P-1')).stock_confirmed_at, NULL, 'its stock is no longer confirmed');
SELECT is(test_helpers.variant_counts('V1'), '4/0', 'sold stock is back in the reservation');
SELECT is(test_helpers.open_reviews('P-1'), 'payment_reversed:tx-1', 'flagged payment_reversed');

SELECT is(payments.expire_order('P-1') ->> 'decision', 'released', 'closing the window releases');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'the stock is free again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
