-- Rule: when a paid ticket order's payment is reversed while its payment window
-- is open, the order goes back to pending and its goods are held: tickets are
-- voided and sold capacity goes back to the order's reservation (not to free
-- capacity), so the customer may pay again and nobody else takes the seats.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 3);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.active_tickets('T-1'), '0/2 2',
          'setup: paid, 2 sold, 2 tickets');

CREATE TEMP TABLE result AS SELECT test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') AS r;
SELECT is((SELECT r ->> 'decision' FROM result), 'reversed', 'the deny of the paid transaction is a reversal');
SELECT is(test_helpers.status('T-1'), 'pending', 'the window is still open: pending');
SELECT is((SELECT r -> 'effects' -> 0 FROM result),
          '{"effect": "capacity_held", "tickets_voided": 2, "sold_returned_to_reserved": 2}'::jsonb,
          'the hold effect ran');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'the tickets are voided');
SELECT is(test_helpers.all_tickets('T-1'), 2::bigint, 'and kept as history');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'sold went back to reserved');
SELECT is(test_helpers.finalized('T-1'), 0::bigint, 'nothing finalized');
SELECT is((test_helpers.ord('T-1')).tickets_issued_at, NULL, 'tickets_issued_at is cleared');
SELECT is((test_helpers.ord('T-1')).capacity_released_at, NULL, 'the reservation is not released');
SELECT throws_ok($$SELECT payments.create_ticket_order('T-2', '[{"slot": "S1", "quantity": 2}]',
                                                       now() + interval '1 hour', 100000)$$, 'PM003', NULL,
                 'the held seats are not free for another order');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
