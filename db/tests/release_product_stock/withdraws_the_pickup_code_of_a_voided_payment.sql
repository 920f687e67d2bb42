BEGIN;
SELECT plan(7);

SELECT test_helpers.variant('V1', 5);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
SELECT (test_helpers.ord('P-1')).pickup_code AS first_code \gset

SELECT is(test_helpers.gateway('P-1', 'refund', NULL, 'tx-1') ->> 'decision', 'refunded', 'refunded');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code can no longer be redeemed');
SELECT is((test_helpers.ord('P-1')).stock_confirmed_at, NULL, 'the stock is no longer confirmed');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'the unit is back on sale');
SELECT is((SELECT detail #>> '{effects,0,pickup_code_voided}' FROM payments.webhook_logs
            WHERE order_number = 'P-1' AND outcome = 'refunded'),
          :'first_code', 'the withdrawn code is kept in the log');

-- a reversal followed by a new payment gets a new code
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.gateway('P-2', 'settlement', NULL, 'tx-a');
SELECT test_helpers.gateway('P-2', 'deny', NULL, 'tx-a');
SELECT test_helpers.gateway('P-2', 'settlement', NULL, 'tx-b');
SELECT isnt((test_helpers.ord('P-2')).pickup_code, NULL, 'a late payment after a reversal gets a code again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
