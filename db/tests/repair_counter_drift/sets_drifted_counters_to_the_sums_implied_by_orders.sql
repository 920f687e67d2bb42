-- Rule: repair_counter_drift sets each drifted slot / variant counter to the sums
-- implied by the orders, leaves clean ones alone and logs every fix with the
-- values it replaced.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.slot('S2', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 3);
SELECT test_helpers.gateway('T-2', 'settlement');
SELECT test_helpers.product_order('P-1', 'V1', 4);
UPDATE payments.ticket_slots SET reserved = 7, sold = 0 WHERE code = 'S1';
UPDATE payments.product_variants SET reserved_stock = 0, sold = 1 WHERE sku = 'V1';

SELECT results_eq($$SELECT resource, code, outcome FROM payments.repair_counter_drift()$$,
                  $$VALUES ('ticket_slot', 'S1', 'repaired'), ('product_variant', 'V1', 'repaired')$$,
                  'both drifted counters are repaired, the clean slot is left alone');
SELECT is(test_helpers.slot_counts('S1'), '2/3', 'slot counters = what the orders imply');
SELECT is(test_helpers.variant_counts('V1'), '4/0', 'variant counters = what the orders imply');
SELECT is(test_helpers.slot_counts('S2'), '0/0', 'S2 untouched');
SELECT is(test_helpers.outcomes(NULL, 'reconcile_fix_counter_drift'), ARRAY['repaired', 'repaired'],
          'each fix is logged as reconcile_fix_counter_drift');
SELECT is((SELECT detail ->> 'reserved_actual' FROM payments.webhook_logs
            WHERE event_type = 'reconcile_fix_counter_drift' AND detail ->> 'code' = 'S1'), '7',
          'with the values before the fix');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
