-- A deny of the paying transaction after its settlement is a reversal: the
-- goods are taken back (tickets voided, sold capacity back to the order's
-- reservation) and payment_reversed is opened; while the payment window is
-- open the order is pending (the customer may pay again). Closing the window
-- (expire_order) then releases the seats.
BEGIN;
SELECT plan(14);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'paid: capacity sold');

SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') ->> 'decision', 'reversed',
          'deny on the paying transaction is a reversal');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is pending again');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'no active tickets remain');
SELECT is(test_helpers.all_tickets('T-1'), 3::bigint, 'the tickets are voided, not deleted');
SELECT is((SELECT count(*) FROM payments.tickets WHERE voided_at IS NOT NULL), 3::bigint,
          'each voided ticket has voided_at');
SELECT is(test_helpers.slot_counts('S1'), '3/0', 'sold capacity is back in the reservation');
SELECT is(test_helpers.finalized('T-1'), 0::bigint, 'finalized_quantity is back to 0');
SELECT is(test_helpers.open_reviews('T-1'), 'payment_reversed:tx-1', 'flagged payment_reversed');
SELECT is((test_helpers.ord('T-1')).capacity_released_at, NULL, 'nothing is released yet');

SELECT is(payments.expire_order('T-1') ->> 'decision', 'released', 'closing the window releases');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.slot_counts('S1'), 'expired 0/0',
          'the order is expired and its seats are free');
SELECT isnt((test_helpers.ord('T-1')).capacity_released_at, NULL, 'capacity_released_at is set');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
