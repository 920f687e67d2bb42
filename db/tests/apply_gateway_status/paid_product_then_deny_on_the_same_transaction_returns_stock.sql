BEGIN;
SELECT plan(6);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 4);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
SELECT is(test_helpers.variant_counts('V1'), '0/4', 'paid: stock sold');

SELECT is(test_helpers.gateway('P-1', 'deny', NULL, 'tx-1') ->> 'decision', 'reversed',
          'deny on the paying transaction is a reversal');
SELECT is(test_helpers.status('P-1'), 'failed', 'the order is failed');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'sold stock is returned');
SELECT is(test_helpers.review('P-1'), 'payment_reversed', 'flagged payment_reversed');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
