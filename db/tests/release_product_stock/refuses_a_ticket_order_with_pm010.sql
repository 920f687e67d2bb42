-- Rule: payments_private.release_product_stock works on product orders only: a
-- ticket order (or any other kind) raises PM010; the dispatcher release_goods
-- sends each kind to its own release.
BEGIN;
SELECT plan(5);
-- an order kind the schema does not know yet: the kind domain's rule is dropped
-- inside this rolled-back transaction, as a new kind added without its effects
ALTER DOMAIN payments.order_kind DROP CONSTRAINT order_kind_check;

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'cancel');

SELECT throws_ok($$SELECT payments_private.release_product_stock(test_helpers.ord('T-1'))$$, 'PM010', NULL,
                 'a failed ticket order is not a product order: PM010');
SELECT throws_ok($$SELECT payments_private.release_product_stock(
                       jsonb_populate_record(test_helpers.ord('T-1'), '{"kind": "gift"}'))$$, 'PM010', NULL,
                 'an order of an unknown kind raises PM010 too');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'capacity untouched (released once, by its own function)');
SELECT is(payments_private.release_goods(test_helpers.ord('T-1')), '{"effect": "none"}'::jsonb,
          'release_goods sends the ticket order to release_ticket_capacity (already released: nothing to do)');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
