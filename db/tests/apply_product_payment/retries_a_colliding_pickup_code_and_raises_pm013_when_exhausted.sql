BEGIN;
SELECT plan(7);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.product_order('P-3', 'V1', 1);
SELECT test_helpers.force_status('P-2', 'paid');
SELECT test_helpers.force_status('P-3', 'paid');
UPDATE payments.orders SET pickup_code = 'AAAA-AAAA' WHERE order_number = 'P-1';

-- a rigged random source: the first draw collides with P-1's code, then a fresh one
CREATE TEMP SEQUENCE draws;
CREATE OR REPLACE FUNCTION payments.random_code(n_chars integer) RETURNS text
LANGUAGE sql SET search_path = payments, pg_temp
AS $$ SELECT CASE WHEN nextval('draws') = 1 THEN 'AAAAAAAA' ELSE 'BBBBBBBB' END $$;

SELECT lives_ok($$SELECT payments.apply_product_payment('P-2')$$, 'a colliding draw is retried');
SELECT is((test_helpers.ord('P-2')).pickup_code, 'BBBB-BBBB', 'the second draw is used');

-- now every draw collides
CREATE OR REPLACE FUNCTION payments.random_code(n_chars integer) RETURNS text
LANGUAGE sql SET search_path = payments, pg_temp AS $$ SELECT 'AAAAAAAA' $$;
SELECT throws_ok($$SELECT payments.apply_product_payment('P-3')$$, 'PM013', NULL,
                 'when every draw collides, PM013');
SELECT is((test_helpers.ord('P-3')).pickup_code, NULL, 'P-3 has no code');
SELECT is(test_helpers.variant_counts('V1'), '2/1', 'and its stock was not confirmed either');
SELECT is((test_helpers.ord('P-1')).pickup_code, 'AAAA-AAAA', 'P-1 keeps its code');
SELECT test_helpers.force_status('P-3', 'pending');   -- undo the hand-made 'paid' of the setup
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
