-- Rule: find_mismatches' repairs are the orders.repair column, nothing else:
-- one row per order whose repair is set, check_name = the repair, for all six
-- repairs (fix_ticket_issued, release_capacity, hold_capacity,
-- fix_pickup_code, release_stock, hold_stock), in id order.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 20);
SELECT test_helpers.variant('V1', 20);
SELECT test_helpers.ticket_order('T-FIX', 'S1', 1);
SELECT test_helpers.ticket_order('T-RELEASE', 'S1', 1);
SELECT test_helpers.ticket_order('T-HOLD', 'S1', 1);
SELECT test_helpers.ticket_order('T-FINE', 'S1', 1);
SELECT test_helpers.product_order('P-FIX', 'V1', 1);
SELECT test_helpers.product_order('P-RELEASE', 'V1', 1);
SELECT test_helpers.product_order('P-HOLD', 'V1', 1);
SELECT test_helpers.product_order('P-FINE', 'V1', 1);
SELECT test_helpers.paid_without_goods('T-FIX'), test_helpers.paid_without_goods('P-FIX');
SELECT test_helpers.closed_without_release('T-RELEASE', 'expire'), test_helpers.closed_without_release('P-RELEASE', 'cancel');
-- paid, then reversed at Midtrans with the hold effect never run
SELECT test_helpers.gateway('T-HOLD', 'settlement'), test_helpers.gateway('P-HOLD', 'settlement');
UPDATE payments.gateway_transactions AS t SET transaction_status = 'deny', stage = 30
  FROM payments.orders AS o WHERE o.id = t.order_id AND o.order_number IN ('T-HOLD', 'P-HOLD');
UPDATE payments.orders SET status = 'pending' WHERE order_number IN ('T-HOLD', 'P-HOLD');
SELECT test_helpers.gateway('T-FINE', 'settlement'), test_helpers.gateway('P-FINE', 'expire');

SELECT results_eq($$SELECT order_number::text, repair FROM payments.orders WHERE repair IS NOT NULL ORDER BY id$$,
                  $$VALUES ('T-FIX', 'fix_ticket_issued'), ('T-RELEASE', 'release_capacity'),
                           ('T-HOLD', 'hold_capacity'), ('P-FIX', 'fix_pickup_code'),
                           ('P-RELEASE', 'release_stock'), ('P-HOLD', 'hold_stock')$$,
                  'setup: the repair column names one repair per broken order');
SELECT results_eq($$SELECT order_number, check_name FROM payments.find_mismatches()$$,
                  $$SELECT order_number::text, repair FROM payments.orders WHERE repair IS NOT NULL ORDER BY id$$,
                  'find_mismatches reports exactly those, check_name = repair');
SELECT results_eq($$SELECT check_name, status FROM payments.find_mismatches() WHERE order_number LIKE '%HOLD'$$,
                  $$VALUES ('hold_capacity', 'pending'), ('hold_stock', 'pending')$$,
                  'a pending order whose goods are still out needs them held');
SELECT is_empty($$SELECT * FROM payments.find_mismatches() WHERE order_number LIKE '%FINE'$$,
                'orders whose goods follow their status are not reported');

SELECT * FROM finish();
ROLLBACK;
