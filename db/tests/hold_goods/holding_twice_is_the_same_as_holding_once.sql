-- Rule: the hold effect (payments_private.hold_goods and the functions it
-- dispatches to) is idempotent: holding an order whose goods are already held
-- changes nothing, for tickets and products.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 3);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
-- the payments are reversed at Midtrans; the orders are pending again, the
-- hold effect not run yet
UPDATE payments.gateway_transactions SET transaction_status = 'deny', stage = 30;
UPDATE payments.orders SET status = 'pending';
SELECT is(ARRAY[(test_helpers.ord('T-1')).repair, (test_helpers.ord('P-1')).repair],
          ARRAY['hold_capacity', 'hold_stock'], 'setup: both orders need their goods held');

SELECT is(payments_private.hold_goods(test_helpers.ord('T-1')) ->> 'effect', 'capacity_held', 'first hold of T-1');
SELECT is(payments_private.hold_goods(test_helpers.ord('P-1')) ->> 'effect', 'stock_held', 'first hold of P-1');
SELECT test_helpers.backdate('T-1');
SELECT test_helpers.backdate('P-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.slot_counts('S1') AS slot, test_helpers.variant_counts('V1') AS variant,
           (SELECT array_agg(voided_at ORDER BY id) FROM payments.tickets) AS voided,
           (SELECT array_agg(updated_at ORDER BY id) FROM payments.orders) AS updated;

SELECT is(payments_private.hold_goods(test_helpers.ord('T-1')), '{"effect": "none"}'::jsonb,
          'holding T-1 again does nothing');
SELECT is(payments_private.hold_goods(test_helpers.ord('P-1')), '{"effect": "none"}'::jsonb,
          'holding P-1 again does nothing');
SELECT is(test_helpers.slot_counts('S1'), (SELECT slot FROM before), 'same slot counters');
SELECT is(test_helpers.variant_counts('V1'), (SELECT variant FROM before), 'same variant counters');
SELECT is((SELECT array_agg(voided_at ORDER BY id) FROM payments.tickets), (SELECT voided FROM before),
          'the voided tickets keep their voided_at');
SELECT is(ARRAY[(test_helpers.ord('T-1')).repair, (test_helpers.ord('P-1')).repair], ARRAY[NULL, NULL]::text[],
          'nothing is left to repair');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '2/0 3/0',
          'each order holds its reservation');

SELECT * FROM finish();
ROLLBACK;
