BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.force_status('T-1', 'paid');
CREATE TEMP TABLE run AS SELECT payments.start_run('reconcile', 'manual') AS id;

SELECT is((payments.reconcile_local(10, 'manual', (SELECT id FROM run)) ->> 'repaired')::int, 1,
          'the repair is made');
SELECT is((SELECT run_id FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_ticket_issued'),
          (SELECT id FROM run), 'under the caller''s run');
SELECT is((SELECT finished_at FROM payments.runs WHERE id = (SELECT id FROM run)), NULL,
          'the caller''s run is left open for the caller to finish');
SELECT is((SELECT count(*) FROM payments.runs), 1::bigint, 'no second run is opened');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
