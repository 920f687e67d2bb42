-- Rule: reconcile_step works inside a reconcile run the caller opened
-- (start_run) and left open: each step counts in it (checked, changed, the
-- repair kind), logs under its id, marks that local reconciliation ran; the
-- run stays open until the caller finishes it.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.paid_without_goods('T-1');
SELECT payments.start_run('reconcile', 'manual') AS run \gset

SELECT is(payments.reconcile_step(NULL, 'manual', :run),
          jsonb_build_object('order_id', (test_helpers.ord('T-1')).id, 'order_number', 'T-1',
                             'repair', 'fix_ticket_issued', 'outcome', 'repaired'),
          'the step repairs the order and says which');
SELECT is(payments.reconcile_step(NULL, 'manual', :run), NULL, 'the next step finds nothing: NULL');
SELECT is((SELECT run_id FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_ticket_issued'),
          :run::bigint, 'the repair is logged under the caller''s run');
SELECT is((SELECT source FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_ticket_issued'),
          'manual', 'with the caller''s source');
SELECT is((SELECT checked || '/' || changed || '/' || local_done FROM payments.runs WHERE id = :run),
          '1/1/true', 'counted in the run: 1 checked, 1 changed, local reconciliation ran');
SELECT is((SELECT totals FROM payments.runs WHERE id = :run),
          '{"mismatches_found": 1, "repaired": 1, "flagged": 0, "corrected": 0, "reconcile_fix_ticket_issued": 1}'::jsonb,
          'found, repaired, and per repair kind');
SELECT is((SELECT finished_at FROM payments.runs WHERE id = :run), NULL,
          'the caller''s run is left open for the caller to finish');
SELECT is((payments.finish_run(:run)).ok, true, 'the caller finishes it: ok');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
