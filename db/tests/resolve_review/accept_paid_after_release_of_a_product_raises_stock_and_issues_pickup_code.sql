-- Rule: accept of paid_after_release on a product order raises the variant's
-- stock by exactly the shortfall, confirms it and issues the pickup code.
BEGIN;
SELECT plan(6);

SELECT test_helpers.variant('V1', 1);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.gateway('P-2', 'settlement', NULL, 'tx-9');
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2');

SELECT is(payments.resolve_review('P-1', 'paid_after_release', 'accept') ->> 'status', 'paid', 'accepted: still paid');
SELECT is((SELECT stock FROM payments.product_variants WHERE sku = 'V1'), 2, 'stock raised by the shortfall');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code is issued');
SELECT is(test_helpers.variant_counts('V1'), '0/2', 'both orders sold');
SELECT is((test_helpers.ord('P-1')).needs_review, false, 'the flag is cleared');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
