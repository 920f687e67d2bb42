-- Rule: a malformed items array (not a non-empty array of objects naming a slot,
-- duplicates, bad unit prices, more than 50 items) raises PM008.
BEGIN;
SELECT plan(17);

SELECT test_helpers.slot('S1', 1000);
SELECT test_helpers.slot('S2', 1000);

SELECT throws_ok(format($$SELECT payments.create_ticket_order('T-1', %L, now() + interval '1 hour', 1000)$$,
                        items), 'PM008', NULL, why)
  FROM (VALUES
    ('{"slot": "S1", "quantity": 1}', 'an object instead of an array'),
    ('[]', 'an empty array'),
    ('"S1"', 'a string'),
    ('[1, 2]', 'array elements that are not objects'),
    ('[{"quantity": 1}]', 'an item without slot'),
    ('[{"slot": 7, "quantity": 1}]', 'a slot code that is not a string'),
    ('[{"slot_id": "1", "quantity": 1}]', 'a slot_id that is not a number'),
    ('[{"slot_id": 1.5, "quantity": 1}]', 'a slot_id that is not an integer'),
    ('[{"slot": "S1", "quantity": 1}, {"slot": "S1", "quantity": 2}]', 'the same slot twice'),
    ('[{"slot": "S1", "quantity": 1, "unit_price": "1000"}]', 'a unit_price that is a string'),
    ('[{"slot": "S1", "quantity": 1, "unit_price": -1}]', 'a negative unit_price'),
    ('[{"slot": "S1", "quantity": 1, "unit_price": 1e100}]', 'an absurd unit_price'),
    ('[{"slot": "S1", "quantity": 2, "unit_price": 0.005}]', 'a unit_price with 3 decimals (would be rounded)')
  ) AS t (items, why);
SELECT throws_ok($$SELECT payments.create_ticket_order('T-1',
    (SELECT jsonb_agg(jsonb_build_object('slot', 'S1', 'quantity', 1)) FROM generate_series(1, 51)),
    now() + interval '1 hour', 1000)$$, 'PM008', NULL, 'more than 50 items');
SELECT throws_ok($$SELECT payments.create_ticket_order('T-1', NULL, now() + interval '1 hour', 1000)$$,
                 'PM008', NULL, 'NULL items');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
