-- Rule: a drift fix that would break capacity (orders imply more sold than the
-- slot holds) is reported as oversold and not applied; once capacity is
-- restored, the fix goes through.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 5);
SELECT test_helpers.ticket_order('T-1', 'S1', 5);
SELECT test_helpers.gateway('T-1', 'settlement');
-- someone cut the capacity to 3 and zeroed `sold` to make it fit
UPDATE payments.ticket_slots SET capacity = 3, sold = 0 WHERE code = 'S1';

SELECT results_eq($$SELECT code, outcome FROM payments.repair_counter_drift()$$,
                  $$VALUES ('S1', 'oversold')$$, 'orders imply 5 sold of 3: reported as oversold');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'the counters are not touched');
SELECT is(test_helpers.outcomes(NULL, 'reconcile_fix_counter_drift'), ARRAY['oversold'], 'logged as oversold');

-- a person restores the capacity; now the repair goes through
UPDATE payments.ticket_slots SET capacity = 5 WHERE code = 'S1';
SELECT results_eq($$SELECT code, outcome FROM payments.repair_counter_drift()$$,
                  $$VALUES ('S1', 'repaired')$$, 'then it is repaired');
SELECT is(test_helpers.slot_counts('S1'), '0/5', '0/5');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
