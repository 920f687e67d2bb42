-- Rule: a refunded payment's pickup code is withdrawn with the stock, so it can
-- no longer be redeemed; the log records that it was withdrawn, never the code
-- itself; a later payment gets a new code.
BEGIN;
SELECT plan(8);

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
          'true', 'the log says the code was withdrawn');
SELECT is_empty(format($$SELECT id FROM payments.webhook_logs WHERE strpos(detail::text || coalesce(payload::text, ''), %L) > 0$$,
                       :'first_code'),
                'and never stores the code itself');

-- a reversal within the payment window withdraws the code too; a new payment gets a new one
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.gateway('P-2', 'settlement', NULL, 'tx-a');
SELECT (test_helpers.ord('P-2')).pickup_code AS reversed_code \gset
SELECT test_helpers.gateway('P-2', 'deny', NULL, 'tx-a');
SELECT test_helpers.gateway('P-2', 'settlement', NULL, 'tx-b');
SELECT ok((test_helpers.ord('P-2')).pickup_code IS DISTINCT FROM :'reversed_code'
          AND (test_helpers.ord('P-2')).pickup_code IS NOT NULL,
          'a new payment after a reversal gets a new code');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
