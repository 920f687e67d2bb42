-- Rule: finish_run records a run's totals from the counters the working
-- functions wrote (due, checked, changed, not_found, errors, and a reconcile
-- run's per-repair counts); the caller's extra only adds its own figures and
-- cannot override a counter, stand in for one the run keeps, nor make a run ok.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
CREATE TEMP TABLE due AS SELECT * FROM payments.start_sync('0 seconds');
SELECT DISTINCT run_id AS run FROM due \gset
SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'sync', NULL, :run);

CREATE TEMP TABLE run AS
    SELECT * FROM payments.finish_run(:run, '{"due": 1, "checked": 2, "changed": 9, "not_found": 1, "errors": 0,
                                              "expire_calls": 4}');
SELECT is((SELECT totals FROM run),
          '{"due": 2, "checked": 1, "changed": 1, "not_found": 0, "errors": 0, "expire_calls": 4}'::jsonb,
          'the counters win over extra; the runner''s own figure is kept');
SELECT is((SELECT ok FROM run), false, 'claiming every order was checked does not make the run ok');
SELECT is((SELECT detail -> 'totals' FROM payments.webhook_logs WHERE event_type = 'sync_run'),
          (SELECT totals FROM run), 'the sync_run log row carries the same totals');

-- a reconcile run: its per-repair counts come from reconcile_step too
SELECT test_helpers.ticket_order('T-3', 'S1', 1);
SELECT test_helpers.force_status('T-3', 'paid');    -- corrected by the step
SELECT payments.start_run('reconcile', 'manual') AS rrun \gset
SELECT payments.reconcile_step(NULL, 'manual', :rrun);
CREATE TEMP TABLE rrun AS
    SELECT * FROM payments.finish_run(:rrun, '{"flagged": 7, "corrected": 40, "reconcile_fix_ticket_issued": 50,
                                               "checked": 50}');
SELECT is((SELECT totals ->> 'reconcile_fix_ticket_issued' || '/' || (totals ->> 'corrected') FROM rrun), '0/1',
          'a repair count cannot be inflated (the forced status was corrected, no ticket issued)');
SELECT is((SELECT totals ->> 'flagged' FROM rrun), '0', 'nor the flagged count');
SELECT is((SELECT totals ->> 'checked' FROM rrun), '1', 'nor checked');

-- a reconcile run that found nothing: extra cannot stand in for its counters
SELECT payments.start_run('reconcile', 'manual') AS erun \gset
SELECT payments.reconcile_step(NULL, 'manual', :erun);
CREATE TEMP TABLE erun AS
    SELECT * FROM payments.finish_run(:erun, '{"flagged": 7, "corrected": 3, "repaired": 2, "mismatches_found": 12,
                                               "reconcile_release_stock": 5, "pending_past_expiry": 1}');
SELECT is((SELECT totals - ARRAY['due', 'checked', 'changed', 'not_found', 'errors'] FROM erun),
          '{"mismatches_found": 0, "repaired": 0, "corrected": 0, "flagged": 0, "pending_past_expiry": 1}'::jsonb,
          'an empty reconcile run shows zero found, repaired, corrected and flagged whatever extra says');
SELECT is((SELECT observed FROM payments.alerts() WHERE name = 'mismatches_found'), 1::numeric,
          'the mismatches_found alert counts what reconcile_step found (1), not extra''s claims');
SELECT throws_ok($$SELECT payments.finish_run(payments.start_run('reconcile', 'manual'), '[1, 2]')$$, 'PM009',
                 'extra must be a JSON object, got array', 'extra that is not an object raises PM009');
SELECT throws_ok($$SELECT payments.finish_run(payments.start_run('prune', 'manual'), '"x"')$$, 'PM009', NULL,
                 'a string too');

SELECT * FROM finish();
ROLLBACK;
