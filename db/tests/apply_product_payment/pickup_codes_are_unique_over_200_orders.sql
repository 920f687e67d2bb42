-- Rule: pickup codes are unique over many paid orders and have the form
-- XXXX-XXXX over the unambiguous alphabet.
BEGIN;
SELECT plan(4);

SELECT test_helpers.variant('V1', 200);
SELECT test_helpers.product_order('P-' || n, 'V1', 1) FROM generate_series(1, 200) AS n;
SELECT test_helpers.gateway('P-' || n, 'settlement') FROM generate_series(1, 200) AS n;

SELECT is((SELECT count(pickup_code) FROM payments.orders), 200::bigint, '200 paid orders have a pickup code');
SELECT is((SELECT count(DISTINCT pickup_code) FROM payments.orders), 200::bigint, 'all 200 are distinct');
SELECT is_empty($$SELECT pickup_code FROM payments.orders
                   WHERE pickup_code !~ '^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$'$$,
                'every code is XXXX-XXXX over the unambiguous alphabet');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
