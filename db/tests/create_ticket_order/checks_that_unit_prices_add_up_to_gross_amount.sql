-- Rule: when every item of a ticket order carries a unit_price, their sum must equal
-- gross_amount (PM009 otherwise); unpriced items are not checked; prices are stored per item.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.slot('S2', 10);

SELECT throws_ok($$SELECT payments.create_ticket_order('T-1',
    '[{"slot": "S1", "quantity": 2, "unit_price": 50000}, {"slot": "S2", "quantity": 1, "unit_price": 25000}]',
    now() + interval '1 hour', 100000)$$, 'PM009', NULL, 'priced items summing to 125000 != 100000 raise PM009');
SELECT lives_ok($$SELECT payments.create_ticket_order('T-2',
    '[{"slot": "S1", "quantity": 2, "unit_price": 50000}, {"slot": "S2", "quantity": 1, "unit_price": 25000}]',
    now() + interval '1 hour', 125000)$$, 'priced items summing to gross_amount are accepted');
SELECT lives_ok($$SELECT payments.create_ticket_order('T-3',
    '[{"slot": "S1", "quantity": 1, "unit_price": 50000}, {"slot": "S2", "quantity": 1}]',
    now() + interval '1 hour', 99999)$$, 'when some items are unpriced the sum is not checked');
SELECT is((SELECT array_agg(unit_price::numeric ORDER BY slot_id) FROM payments.ticket_order_items AS i
             JOIN payments.orders o ON o.id = i.order_id WHERE o.order_number = 'T-2'),
          ARRAY[50000, 25000]::numeric[], 'unit prices are stored per item');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.slot_counts('S2'), '3/0 2/0',
          'only the accepted orders reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
