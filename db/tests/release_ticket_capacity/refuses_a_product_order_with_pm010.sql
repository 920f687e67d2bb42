-- Rule: payments_private.release_ticket_capacity works on ticket orders only: a
-- product order (or any other kind) raises PM010; the dispatcher release_goods
-- sends each kind to its own release.
BEGIN;
SELECT plan(5);
-- an order kind the schema does not know yet: the kind domain's rule is dropped
-- inside this rolled-back transaction, as a new kind added without its effects
ALTER DOMAIN payments.order_kind DROP CONSTRAINT order_kind_check;

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.product_order('P-2', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'expire');

SELECT throws_ok($$SELECT payments_private.release_ticket_capacity(test_helpers.ord('P-1'))$$, 'PM010', NULL,
                 'an expired product order is not a ticket order: PM010');
SELECT throws_ok($$SELECT payments_private.release_ticket_capacity(
                       jsonb_populate_record(test_helpers.ord('P-1'), '{"kind": "gift"}'))$$, 'PM010', NULL,
                 'an order of an unknown kind raises PM010 too');
SELECT is(test_helpers.variant_counts('V1'), '2/0', 'stock untouched (released once, by its own function)');
SELECT is(payments_private.release_goods(test_helpers.ord('P-1')), '{"effect": "none"}'::jsonb,
          'release_goods sends the product order to release_product_stock (already released: nothing to do)');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
