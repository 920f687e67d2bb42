-- Rule: a pending order holds its reservation and nothing else
-- (pending_order_holds_reservation): a released order re-opened by hand as
-- pending is reported until its status is put back.
BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire');
SELECT test_helpers.force_status('T-1', 'pending');   -- re-opened by hand after its release

SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'pending_order_holds_reservation' AND subject = 'order T-1'),
          'a pending order whose capacity was released is reported');

SELECT test_helpers.force_status('T-1', 'expired');
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE invariant = 'pending_order_holds_reservation'$$,
                'gone once the order is back to expired');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
