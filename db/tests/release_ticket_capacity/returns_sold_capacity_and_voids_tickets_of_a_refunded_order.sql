-- Rule: releasing a refunded ticket order hands back its sold capacity (not
-- only its reservation), voids its tickets and does it once.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.gateway('T-1', 'settlement');
-- a refund recorded by hand (what resolve_review refund records), the release
-- effect not run yet
UPDATE payments.orders SET refunded_manually_at = now(), status = 'refunded' WHERE order_number = 'T-1';

CREATE TEMP TABLE result AS SELECT payments_private.release_ticket_capacity(test_helpers.ord('T-1')) AS r;
SELECT is((SELECT r ->> 'sold_returned' FROM result), '3', 'returns 3 sold');
SELECT is((SELECT r ->> 'tickets_voided' FROM result), '3', 'voids 3 tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'the slot is empty again');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'no active tickets');
SELECT is(test_helpers.finalized('T-1'), 0::bigint, 'finalized_quantity back to 0');
SELECT isnt((test_helpers.ord('T-1')).capacity_released_at, NULL, 'capacity_released_at is set');
SELECT is(payments_private.release_ticket_capacity(test_helpers.ord('T-1')) ->> 'effect', 'none',
          'a second call does nothing');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
