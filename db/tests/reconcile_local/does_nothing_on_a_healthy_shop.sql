BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.gateway('T-2', 'expire');

CREATE TEMP TABLE result AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'mismatches_found')::int + (r ->> 'repaired')::int + (r ->> 'errors')::int
             FROM result), 0, 'nothing found, repaired or failed');
SELECT is_empty($$SELECT * FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\_%' AND event_type <> 'reconcile_run'$$,
                'no repair rows logged');
SELECT is((SELECT count(*) FROM payments.runs), 1::bigint, 'the run is still recorded');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
