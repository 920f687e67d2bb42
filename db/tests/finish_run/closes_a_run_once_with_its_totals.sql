BEGIN;
SELECT plan(9);

CREATE TEMP TABLE run AS SELECT payments.start_run('sync') AS id;

SELECT is((SELECT kind || '/' || source FROM payments.runs WHERE id = (SELECT id FROM run)), 'sync/sync',
          'start_run opens a run, source defaulting to its kind');
SELECT is((SELECT finished_at FROM payments.runs WHERE id = (SELECT id FROM run)), NULL, 'not finished yet');
SELECT is((payments.finish_run((SELECT id FROM run), '{"checked": 3}', 'Midtrans timed out')).error,
          'Midtrans timed out', 'finish_run closes it with its error');
SELECT is((SELECT totals FROM payments.runs WHERE id = (SELECT id FROM run)), '{"checked": 3}'::jsonb,
          'and its totals');
SELECT is((SELECT outcome FROM payments.webhook_logs WHERE event_type = 'sync_run'), 'error',
          'a sync_run log row with outcome error');
SELECT throws_ok(format('SELECT payments.finish_run(%s, %L)', (SELECT id FROM run), '{}'), 'PM009', NULL,
                 'a run cannot be finished twice');
SELECT throws_ok($$SELECT payments.start_run('backup')$$, 'PM009', NULL, 'an unknown run kind raises PM009');
SELECT throws_ok($$SELECT payments.start_run('sync', 'webhook')$$, 'PM009', NULL,
                 'a webhook cannot open a run');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
