-- Rule: a late payment that found no free stock is paid, unfulfilled and under
-- review (paid_after_release): an order waiting for a person is not a violation.
BEGIN;
SELECT plan(3);

SELECT test_helpers.variant('V1', 1);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2');

SELECT is(test_helpers.review('P-1'), 'paid_after_release', 'P-1 is paid, unfulfilled, under review');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'without a pickup code');
SELECT is_empty('SELECT * FROM payments.check_invariants()',
                'an order waiting for a human is not an invariant violation');

SELECT * FROM finish();
ROLLBACK;
