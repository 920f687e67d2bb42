-- Rule: a quantity that is not an integer from 1 to 100 raises PM007.
BEGIN;
SELECT plan(13);

SELECT test_helpers.slot('S1', 1000);

SELECT throws_ok(format($$SELECT payments.create_ticket_order('T-1', %L, now() + interval '1 hour', 1000)$$,
                        '[{"slot": "S1", "quantity": ' || q || '}]'),
                 'PM007', NULL, 'quantity ' || q || ' raises PM007')
  FROM unnest(ARRAY['0', '-1', '101', '1.5', '"2"', '1e100', 'null', 'true', '[1]', '2.0']) AS q;
SELECT throws_ok($$SELECT payments.create_ticket_order('T-1', '[{"slot": "S1"}]',
                                                       now() + interval '1 hour', 1000)$$,
                 'PM007', NULL, 'a missing quantity raises PM007');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'nothing reserved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
