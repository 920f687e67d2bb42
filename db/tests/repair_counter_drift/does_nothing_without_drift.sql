-- Rule: repair_counter_drift changes and logs nothing when every counter equals
-- what the orders imply.
BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 5);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');

SELECT is_empty('SELECT * FROM payments.repair_counter_drift()', 'nothing to repair');
SELECT is_empty($$SELECT * FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_counter_drift'$$,
                'nothing logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
