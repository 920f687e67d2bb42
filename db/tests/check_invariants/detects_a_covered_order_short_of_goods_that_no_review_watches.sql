-- Rule: money that covers the price has its goods out unless a review is open
-- (money_has_its_goods): an order left short of capacity (shortfall_at) whose
-- paid_after_release review was closed behind people's back is reported.
BEGIN;
SELECT plan(3);
SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'setup: short, under review');

-- the review is closed by hand, outside resolve_review
UPDATE payments.order_reviews SET resolved_at = now(), resolution = 'dismiss', resolved_by = session_user;
UPDATE payments.orders SET needs_review = false WHERE order_number = 'T-1';
SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'money_has_its_goods' AND subject = 'order T-1'),
          'a covered order short of goods that nobody watches is reported');
SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'paid_ticket_order_fulfilled' AND subject = 'order T-1'),
          'and as a paid order without its tickets');

SELECT * FROM finish();
ROLLBACK;
