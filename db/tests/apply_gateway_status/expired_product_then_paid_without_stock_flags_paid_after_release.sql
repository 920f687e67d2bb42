-- A late payment of an expired product order whose stock was sold meanwhile is
-- paid (the money is a fact) but issues nothing: paid_after_release is opened,
-- nothing is oversold.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.product_order('P-2', 'V1', 2);
SELECT test_helpers.gateway('P-2', 'settlement', NULL, 'tx-3');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'the stock was sold to someone else');

SELECT is(test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2') ->> 'decision',
          'late_payment_review', 'the late payment is decided late_payment_review');
SELECT is(test_helpers.status('P-1'), 'paid', 'the order is paid');
SELECT is(test_helpers.review('P-1'), 'paid_after_release', 'flagged paid_after_release');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'no pickup code for goods we do not have');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'nothing oversold');
SELECT is((test_helpers.ord('P-1')).stock_confirmed_at, NULL, 'stock not confirmed');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
