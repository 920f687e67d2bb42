-- Rule: hold_ticket_capacity holds ticket orders only and hold_product_stock
-- product orders only (PM010 otherwise, and the dispatcher hold_goods raises
-- PM010 for a kind it does not know); only a pending order that still holds
-- its reservation can be held (PM011 otherwise).
BEGIN;
SELECT plan(9);
-- an order kind the schema does not know yet: the kind domain's rule is dropped
-- inside this rolled-back transaction, as a new kind added without its effects
ALTER DOMAIN payments.order_kind DROP CONSTRAINT order_kind_check;

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-PENDING', 'S1', 1);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 1);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 1);
SELECT test_helpers.product_order('P-PENDING', 'V1', 1);
SELECT test_helpers.product_order('P-PAID', 'V1', 1);
SELECT test_helpers.gateway('T-PAID', 'settlement'), test_helpers.gateway('P-PAID', 'settlement');
SELECT test_helpers.gateway('T-EXPIRED', 'expire');

SELECT throws_ok($$SELECT payments_private.hold_ticket_capacity(test_helpers.ord('P-PENDING'))$$, 'PM010', NULL,
                 'hold_ticket_capacity refuses a product order: PM010');
SELECT throws_ok($$SELECT payments_private.hold_product_stock(test_helpers.ord('T-PENDING'))$$, 'PM010', NULL,
                 'hold_product_stock refuses a ticket order: PM010');
SELECT throws_ok($$SELECT payments_private.hold_goods(
                       jsonb_populate_record(test_helpers.ord('T-PENDING'), '{"kind": "gift"}'))$$, 'PM010', NULL,
                 'the dispatcher hold_goods raises PM010 for an unknown kind');
SELECT throws_ok($$SELECT payments_private.hold_goods(test_helpers.ord('T-PAID'))$$, 'PM011', NULL,
                 'a paid ticket order is not held: PM011');
SELECT throws_ok($$SELECT payments_private.hold_goods(test_helpers.ord('P-PAID'))$$, 'PM011', NULL,
                 'a paid product order is not held: PM011');
SELECT throws_ok($$SELECT payments_private.hold_goods(test_helpers.ord('T-EXPIRED'))$$, 'PM011', NULL,
                 'a released order is not held: PM011');
SELECT is(payments_private.hold_goods(test_helpers.ord('T-PENDING')), '{"effect": "none"}'::jsonb,
          'a pending order with nothing out: nothing to hold');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '1/1 1/1',
          'no counter moved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
