-- Rule: counters stay within bounds (counter_bounds): the audit reports a
-- negative or over-capacity counter even if the CHECK constraints were lost.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.variant('V1', 2);
-- the CHECK constraints make this impossible; drop them (rolled back) to prove the audit sees it
ALTER TABLE payments.ticket_slots DROP CONSTRAINT ticket_slots_counters_check;
ALTER TABLE payments.product_variants DROP CONSTRAINT product_variants_counters_check;
UPDATE payments.ticket_slots SET reserved = -1, sold = 5;
UPDATE payments.product_variants SET reserved_stock = 3;

SELECT results_eq($$SELECT subject FROM payments.check_invariants() WHERE invariant = 'counter_bounds'
                   ORDER BY subject$$,
                  $$VALUES ('slot S1'), ('variant V1')$$, 'counter_bounds is reported for both');
SELECT is((SELECT detail ->> 'reserved' FROM payments.check_invariants()
            WHERE invariant = 'counter_bounds' AND subject = 'slot S1'), '-1', 'with the counters');

UPDATE payments.ticket_slots SET reserved = 0, sold = 0;
UPDATE payments.product_variants SET reserved_stock = 0;
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE invariant = 'counter_bounds'$$,
                'gone once the counters are back in bounds');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
