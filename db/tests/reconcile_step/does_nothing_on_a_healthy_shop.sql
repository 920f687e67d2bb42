-- Rule: on a shop whose every order's goods follow its status, a reconcile run
-- finds nothing, logs no repair, and is still recorded (ok, so the staleness
-- alert resets).
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.ticket_order('T-3', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.gateway('T-2', 'expire');
SELECT test_helpers.gateway('T-3', 'settlement'), test_helpers.gateway('T-3', 'deny');   -- reversed, held

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT checked + changed + failed FROM run), 0, 'nothing found, repaired or failed');
SELECT is_empty($$SELECT * FROM payments.webhook_logs WHERE event_type LIKE 'reconcile\_%' AND event_type <> 'reconcile_run'$$,
                'no repair rows logged');
SELECT is((SELECT count(*) FROM payments.runs), 1::bigint, 'the run is recorded');
SELECT is((SELECT ok FROM run), true, 'and ok');
SELECT is((SELECT firing FROM payments.alerts() WHERE name = 'last_reconcile_age_seconds'), false,
          'so the reconcile staleness alert does not fire');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
