BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1, 75000);

SELECT is(test_helpers.gateway('P-1', 'capture', 'accept', 'tx-1', 75001) ->> 'decision',
          'amount_mismatch', 'a capture for the wrong amount is an amount mismatch');
SELECT is(test_helpers.status('P-1'), 'pending', 'the order stays pending');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'no pickup code');
SELECT is(test_helpers.variant_counts('V1'), '1/0', 'stock stays reserved, not sold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
