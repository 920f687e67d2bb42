BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.force_status('T-1', 'refunded');   -- refunded by hand, nothing returned yet

CREATE TEMP TABLE result AS SELECT payments.release_ticket_capacity('T-1') AS r;
SELECT is((SELECT r ->> 'sold_returned' FROM result), '3', 'returns 3 sold');
SELECT is((SELECT r ->> 'tickets_voided' FROM result), '3', 'voids 3 tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'the slot is empty again');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'no active tickets');
SELECT is(test_helpers.finalized('T-1'), 0::bigint, 'finalized_quantity back to 0');
SELECT is(payments.release_ticket_capacity('T-1') ->> 'effect', 'none', 'a second call does nothing');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
