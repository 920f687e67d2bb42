-- Rule: a reconcile run is ok only if local reconciliation (reconcile_step)
-- ran in it, even when it found nothing; opened and finished empty it is not
-- ok and the staleness alert last_reconcile_age_seconds keeps firing.
BEGIN;
SELECT plan(7);

SELECT payments.start_run('reconcile', 'manual') AS empty_run \gset
CREATE TEMP TABLE empty_run AS SELECT * FROM payments.finish_run(:empty_run, '{"repaired": 0}');
SELECT is((SELECT ok FROM empty_run), false, 'a reconcile run without a step is not ok');
SELECT isnt((SELECT error FROM empty_run), NULL, 'and records why');
SELECT is((SELECT firing FROM payments.alerts() WHERE name = 'last_reconcile_age_seconds'), true,
          'the staleness alert keeps firing');

SELECT payments.start_run('reconcile', 'cron') AS run \gset
SELECT is(payments.reconcile_step(NULL, 'cron', :run), NULL, 'a step on a healthy shop finds nothing');
SELECT is((SELECT local_done FROM payments.runs WHERE id = :run), true, 'but the run records that it ran');
SELECT is((payments.finish_run(:run)).ok, true, 'so the run is ok');
SELECT is((SELECT firing FROM payments.alerts() WHERE name = 'last_reconcile_age_seconds'), false,
          'and the staleness alert resets');

SELECT * FROM finish();
ROLLBACK;
