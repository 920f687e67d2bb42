-- Rule: one ticket order may reserve several slots, named by code or by id, each
-- for its own quantity.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.slot('S2', 10);
SELECT test_helpers.slot('S3', 10);

SELECT lives_ok(format($$SELECT payments.create_ticket_order('T-1',
    '[{"slot": "S3", "quantity": 1}, {"slot_id": %s, "quantity": 2}, {"slot": "S2", "quantity": 4}]',
    now() + interval '1 hour', 100000, 'USD')$$,
    (SELECT id FROM payments.ticket_slots WHERE code = 'S1')),
    'an order may mix slot codes and slot ids');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.slot_counts('S2') || ' '
          || test_helpers.slot_counts('S3'), '2/0 4/0 1/0', 'each slot reserves its own quantity');
SELECT is((SELECT count(*) FROM payments.ticket_order_items), 3::bigint, 'three items');
SELECT is((test_helpers.ord('T-1')).currency, 'USD', 'the currency is kept');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
