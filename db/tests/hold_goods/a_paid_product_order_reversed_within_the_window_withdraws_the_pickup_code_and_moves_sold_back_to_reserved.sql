-- Rule: when a paid product order's payment is reversed while its payment
-- window is open, the order goes back to pending and its goods are held: the
-- pickup code is withdrawn and sold stock goes back to the order's reservation.
BEGIN;
SELECT plan(9);

SELECT test_helpers.variant('V1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'setup: paid with a pickup code');

CREATE TEMP TABLE result AS SELECT test_helpers.gateway('P-1', 'deny', NULL, 'tx-1') AS r;
SELECT is((SELECT r ->> 'decision' FROM result), 'reversed', 'a deny of the paid transaction is a reversal');
SELECT is(test_helpers.status('P-1'), 'pending', 'the window is still open: pending');
SELECT is((SELECT r -> 'effects' -> 0 FROM result),
          '{"effect": "stock_held", "pickup_code_voided": true, "sold_returned_to_reserved": 2}'::jsonb,
          'the hold effect ran');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code is withdrawn');
SELECT is((test_helpers.ord('P-1')).stock_confirmed_at, NULL, 'the stock is no longer confirmed');
SELECT is(test_helpers.variant_counts('V1'), '2/0', 'sold went back to reserved');
SELECT is((test_helpers.ord('P-1')).stock_released_at, NULL, 'the reservation is not released');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
