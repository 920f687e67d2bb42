-- Rule: payments_private.apply_ticket_payment works on ticket orders only: a
-- product order (or any other kind) raises PM010 and nothing is touched.
BEGIN;
SELECT plan(5);
-- an order kind the schema does not know yet: the kind domain's rule is dropped
-- inside this rolled-back transaction, as a new kind added without its effects
ALTER DOMAIN payments.order_kind DROP CONSTRAINT order_kind_check;

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'settlement');
CREATE TEMP TABLE before AS SELECT (test_helpers.ord('P-1')).pickup_code AS code;

SELECT throws_ok($$SELECT payments_private.apply_ticket_payment(test_helpers.ord('P-1'))$$, 'PM010', NULL,
                 'a paid product order is not a ticket order: PM010');
SELECT is(test_helpers.variant_counts('V1'), '0/1', 'its stock is untouched');
SELECT is((test_helpers.ord('P-1')).pickup_code, (SELECT code FROM before), 'its pickup code is untouched');
SELECT throws_ok($$SELECT payments_private.apply_ticket_payment(
                       jsonb_populate_record(test_helpers.ord('P-1'), '{"kind": "gift"}'))$$, 'PM010', NULL,
                 'an order of an unknown kind raises PM010 too');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
