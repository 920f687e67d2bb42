-- Rule: payments_private.apply_product_payment works on product orders only: a
-- ticket order (or any other kind) raises PM010 and nothing is touched.
BEGIN;
SELECT plan(5);
-- an order kind the schema does not know yet: the kind domain's rule is dropped
-- inside this rolled-back transaction, as a new kind added without its effects
ALTER DOMAIN payments.order_kind DROP CONSTRAINT order_kind_check;

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.gateway('T-1', 'settlement');

SELECT throws_ok($$SELECT payments_private.apply_product_payment(test_helpers.ord('T-1'))$$, 'PM010', NULL,
                 'a paid ticket order is not a product order: PM010');
SELECT is(test_helpers.slot_counts('S1'), '0/1', 'its capacity is untouched');
SELECT is((test_helpers.ord('T-1')).pickup_code, NULL, 'a ticket order never gets a pickup code');
SELECT throws_ok($$SELECT payments_private.apply_product_payment(
                       jsonb_populate_record(test_helpers.ord('T-1'), '{"kind": "gift"}'))$$, 'PM010', NULL,
                 'an order of an unknown kind raises PM010 too');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
