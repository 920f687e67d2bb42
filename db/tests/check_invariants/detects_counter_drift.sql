-- Rule: slot / variant counters equal the sums implied by the orders
-- (counter_drift), reported with the expected values and healed by
-- repair_counter_drift.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('P-1', 'settlement');
UPDATE payments.ticket_slots SET reserved = reserved + 1;
UPDATE payments.product_variants SET sold = sold + 2;

SELECT results_eq($$SELECT invariant, subject FROM payments.check_invariants() ORDER BY subject$$,
                  $$VALUES ('counter_drift', 'product_variant V1'), ('counter_drift', 'ticket_slot S1')$$,
                  'drift is reported for the slot and the variant, nothing else');
SELECT is((SELECT (detail ->> 'reserved_expected')::int FROM payments.check_invariants()
            WHERE subject = 'ticket_slot S1'), 2, 'with what the orders imply');

SELECT lives_ok('SELECT * FROM payments.repair_counter_drift()', 'repair the drift');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
