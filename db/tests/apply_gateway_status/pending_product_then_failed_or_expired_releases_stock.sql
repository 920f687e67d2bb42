BEGIN;
SELECT plan(9);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-DENY', 'V1', 2);
SELECT test_helpers.product_order('P-EXPIRE', 'V1', 3);
SELECT is(test_helpers.variant_counts('V1'), '5/0', 'two pending orders hold 5');

SELECT is(test_helpers.gateway('P-DENY', 'deny') ->> 'decision', 'released', 'deny releases');
SELECT is(test_helpers.gateway('P-EXPIRE', 'expire') ->> 'decision', 'released', 'expire releases');
SELECT is(test_helpers.status('P-DENY'), 'failed', 'denied order is failed');
SELECT is(test_helpers.status('P-EXPIRE'), 'expired', 'expired order is expired');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'all reserved stock is back');
SELECT is((SELECT count(*) FROM payments.orders WHERE stock_released_at IS NOT NULL), 2::bigint,
          'stock_released_at is set on both');
SELECT is((SELECT count(*) FROM payments.orders WHERE pickup_code IS NOT NULL), 0::bigint,
          'no pickup codes');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
