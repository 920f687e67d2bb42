-- An order over several slots is fulfilled and refunded item by item: each
-- slot moves by its own quantity.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.slot('S2', 10);
SELECT payments.create_ticket_order('T-1',
    '[{"slot": "S2", "quantity": 1}, {"slot": "S1", "quantity": 3}]', now() + interval '1 hour', 200000);

SELECT is(test_helpers.gateway('T-1', 'settlement') ->> 'decision', 'paid', 'paid');
SELECT is(test_helpers.active_tickets('T-1'), 4::bigint, '4 tickets over two items');
SELECT is((SELECT array_agg(n ORDER BY slot_id) FROM (
              SELECT i.slot_id, count(*) AS n FROM payments.tickets t
                JOIN payments.ticket_order_items i ON i.id = t.order_item_id GROUP BY i.slot_id) x),
          ARRAY[3, 1]::bigint[], 'quantity tickets per item');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.slot_counts('S2'), '0/3 0/1',
          'each slot finalized by its own quantity');
SELECT is(test_helpers.gateway('T-1', 'refund') ->> 'decision', 'refunded', 'refunded');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'all tickets voided');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.slot_counts('S2'), '0/0 0/0',
          'each slot gets its own quantity back');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
