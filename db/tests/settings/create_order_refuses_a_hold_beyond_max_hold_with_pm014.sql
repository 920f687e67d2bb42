-- Rule: an order may hold capacity or stock for at most the max_hold setting
-- (default 24 hours): create_ticket_order / create_product_order with an
-- expires_at beyond now() + max_hold raise PM014 and reserve nothing; changing
-- payments.settings max_hold changes the bound.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT is((SELECT value FROM payments.settings WHERE name = 'max_hold'), '24 hours', 'the default max_hold');

SELECT throws_ok($$SELECT payments.create_ticket_order('T-1', '[{"slot": "S1", "quantity": 1}]',
                                                       now() + interval '24 hours 1 second', 100000)$$,
                 'PM014', NULL, 'a ticket order held one second beyond 24 hours raises PM014');
SELECT throws_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1", "quantity": 1}]',
                                                        'infinity', 50000)$$,
                 'PM014', NULL, 'a product order held forever raises PM014');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '0/0 0/0',
          'nothing was reserved');
SELECT is_empty('SELECT * FROM payments.orders', 'no order was created');
SELECT lives_ok($$SELECT payments.create_ticket_order('T-2', '[{"slot": "S1", "quantity": 1}]',
                                                      now() + interval '24 hours', 100000)$$,
                'exactly 24 hours is allowed');

UPDATE payments.settings SET value = '1 hour' WHERE name = 'max_hold';
SELECT throws_ok($$SELECT payments.create_ticket_order('T-3', '[{"slot": "S1", "quantity": 1}]',
                                                       now() + interval '2 hours', 100000)$$,
                 'PM014', NULL, 'with max_hold 1 hour, a 2-hour ticket hold raises PM014');
SELECT throws_ok($$SELECT payments.create_product_order('P-3', '[{"sku": "V1", "quantity": 1}]',
                                                        now() + interval '2 hours', 50000)$$,
                 'PM014', NULL, 'and so does a 2-hour product hold');
SELECT lives_ok($$SELECT payments.create_product_order('P-4', '[{"sku": "V1", "quantity": 1}]',
                                                       now() + interval '30 minutes', 50000)$$,
                'a 30-minute hold is fine');

UPDATE payments.settings SET value = '3 days' WHERE name = 'max_hold';
SELECT lives_ok($$SELECT payments.create_ticket_order('T-5', '[{"slot": "S1", "quantity": 1}]',
                                                      now() + interval '2 days', 100000)$$,
                'with max_hold 3 days, a 2-day hold is allowed');

SELECT * FROM finish();
ROLLBACK;
