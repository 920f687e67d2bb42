-- Rule: a pickup code that collides with another order's is drawn again; after
-- 10 collisions payments_private.apply_product_payment raises PM013 and the
-- whole effect is undone (no code, no stock confirmed), so a later call can
-- still fulfil the order.
BEGIN;
SELECT plan(8);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.product_order('P-3', 'V1', 1);
-- P-1 holds the code every rigged draw will hit; P-2 and P-3 are paid in the
-- ledger with their pay effect not run yet
SELECT test_helpers.gateway('P-1', 'settlement');
UPDATE payments.orders SET pickup_code = 'AAAA-AAAA' WHERE order_number = 'P-1';
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number IN ('P-2', 'P-3');
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number IN ('P-2', 'P-3');

-- a rigged random source (restored below): the first draw collides with P-1's code, then a fresh one
CREATE TEMP TABLE saved AS
    SELECT pg_get_functiondef('payments_private.random_code(integer)'::regprocedure) AS def;
CREATE TEMP SEQUENCE draws;
CREATE OR REPLACE FUNCTION payments_private.random_code(n_chars integer) RETURNS text
LANGUAGE sql SET search_path = payments, pg_temp
AS $$ SELECT CASE WHEN nextval('draws') = 1 THEN 'AAAAAAAA' ELSE 'BBBBBBBB' END $$;

SELECT lives_ok($$SELECT payments_private.apply_product_payment(test_helpers.ord('P-2'))$$,
                'a colliding draw is retried');
SELECT is((test_helpers.ord('P-2')).pickup_code, 'BBBB-BBBB', 'the second draw is used');

-- now every draw collides
CREATE OR REPLACE FUNCTION payments_private.random_code(n_chars integer) RETURNS text
LANGUAGE sql SET search_path = payments, pg_temp AS $$ SELECT 'AAAAAAAA' $$;
SELECT throws_ok($$SELECT payments_private.apply_product_payment(test_helpers.ord('P-3'))$$, 'PM013', NULL,
                 'when every draw collides, PM013');
SELECT is((test_helpers.ord('P-3')).pickup_code, NULL, 'P-3 has no code');
SELECT is(test_helpers.variant_counts('V1'), '1/2', 'and its stock was not confirmed either');
SELECT is((test_helpers.ord('P-1')).pickup_code, 'AAAA-AAAA', 'P-1 keeps its code');

-- the real random source again: the next call fulfils P-3
DO $$ BEGIN EXECUTE (SELECT def FROM saved); END $$;
SELECT is(payments_private.apply_product_payment(test_helpers.ord('P-3')) ->> 'pickup_code_issued', 'true',
          'with draws that do not collide, P-3 gets its code');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
