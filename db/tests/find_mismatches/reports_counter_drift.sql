-- Rule: counter drift (check 6) is reported per slot / variant with the
-- counts the orders imply, and repair_counter_drift clears it.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'settlement');
UPDATE payments.ticket_slots SET reserved = 5 WHERE code = 'S1';
UPDATE payments.product_variants SET sold = 0 WHERE sku = 'V1';

SELECT results_eq($$SELECT check_name, order_number, kind FROM payments.find_mismatches()$$,
                  $$VALUES ('counter_drift', 'S1', 'ticket_slot'), ('counter_drift', 'V1', 'product_variant')$$,
                  'check 6: drifted slot and variant counters are reported');
SELECT is((SELECT (detail ->> 'reserved_expected')::int FROM payments.find_mismatches() WHERE order_number = 'S1'),
          2, 'with the expected reserved count');
SELECT is((SELECT (detail ->> 'sold_expected')::int FROM payments.find_mismatches() WHERE order_number = 'V1'),
          1, 'and the expected sold count');
SELECT lives_ok('SELECT * FROM payments.repair_counter_drift()', 'repair_counter_drift repairs the drift');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
