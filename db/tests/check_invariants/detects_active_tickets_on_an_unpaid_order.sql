BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.force_status('T-1', 'failed');   -- failed by hand, tickets left active

SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'unpaid_order_has_no_tickets' AND subject = 'order T-1'
                     AND (detail ->> 'active_tickets')::int = 2),
          'an unpaid order with active tickets is reported');

SELECT payments.reconcile_local();
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'reconciliation voids them');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
