-- Rule: an order that is not paid has no active tickets
-- (unpaid_order_has_no_tickets): a refund recorded without its release leaves
-- them active, and reconciliation voids them.
BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');
-- refunded by hand (outside resolve_review), tickets left active
UPDATE payments.orders SET refunded_manually_at = now(), status = 'refunded' WHERE order_number = 'T-1';

SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'unpaid_order_has_no_tickets' AND subject = 'order T-1'
                     AND (detail ->> 'active_tickets')::int = 2),
          'an unpaid order with active tickets is reported');

SELECT test_helpers.reconcile_all();
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'reconciliation voids them');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
