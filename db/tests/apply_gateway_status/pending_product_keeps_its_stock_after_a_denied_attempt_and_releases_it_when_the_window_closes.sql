-- Product orders follow the same window as ticket orders: a denied attempt
-- keeps the order pending with its stock reserved; a cancel (failed) or an
-- expire (expired) closes the window and returns the reserved stock.
BEGIN;
SELECT plan(11);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-DENY', 'V1', 2);
SELECT test_helpers.product_order('P-CANCEL', 'V1', 3);
SELECT test_helpers.product_order('P-EXPIRE', 'V1', 4);
SELECT is(test_helpers.variant_counts('V1'), '9/0', 'three pending orders hold 9');

SELECT is(test_helpers.gateway('P-DENY', 'deny') ->> 'decision', 'attempt_failed', 'a deny is a failed attempt');
SELECT is(test_helpers.gateway('P-CANCEL', 'cancel') ->> 'decision', 'released', 'a cancel releases');
SELECT is(test_helpers.gateway('P-EXPIRE', 'expire') ->> 'decision', 'released', 'an expire releases');
SELECT is(ARRAY[test_helpers.status('P-DENY'), test_helpers.status('P-CANCEL'), test_helpers.status('P-EXPIRE')],
          ARRAY['pending', 'failed', 'expired'], 'pending, failed, expired');
SELECT is(test_helpers.variant_counts('V1'), '2/0', 'only the denied order still reserves its stock');
SELECT is((SELECT array_agg(order_number::text ORDER BY order_number) FROM payments.orders
            WHERE stock_released_at IS NOT NULL), ARRAY['P-CANCEL', 'P-EXPIRE'],
          'stock_released_at is set on the closed ones');

SELECT is(payments.expire_order('P-DENY') ->> 'decision', 'released', 'closing the denied order''s window releases');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'all reserved stock is back');
SELECT is((SELECT count(*) FROM payments.orders WHERE pickup_code IS NOT NULL), 0::bigint, 'no pickup codes');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
