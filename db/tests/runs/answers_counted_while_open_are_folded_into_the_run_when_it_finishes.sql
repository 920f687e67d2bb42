-- Rule: the answers of an open run are counted as rows of their own
-- (payments_private.run_answers, one per order), not on the run's row;
-- recent_runs shows the run's counters so far, and finish_run folds the rows
-- into the run's counters and arrays (checked / not_found by each order's
-- first answer, changed once per order, failed per run_failed call, answered
-- and changed_orders in order-number order) and deletes them.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.ticket_order('T-3', 'S1', 1);
SELECT test_helpers.ticket_order('T-4', 'S1', 1);
CREATE TEMP TABLE due AS SELECT * FROM payments.start_sync('0 seconds');
SELECT DISTINCT run_id AS run FROM due \gset

-- T-3 first: its paid answer changes it; answered again, nothing changes
SELECT payments.apply_gateway_status('T-3', 'settlement', NULL, 100000, 'tx-3', '200', 'sync', NULL, :run);
SELECT payments.apply_gateway_status('T-3', 'settlement', NULL, 100000, 'tx-3', '200', 'sync', NULL, :run);
-- T-1: no transaction at Midtrans, then (a later answer of the same run) paid
SELECT payments.apply_status_not_found('T-1', 'sync', NULL, :run);
SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'sync', NULL, :run);
-- T-2 could not be checked, twice; T-4 is answered still pending
SELECT payments.run_failed(:run, 'T-2', 'Midtrans timed out');
SELECT payments.run_failed(:run, 'T-2', 'Midtrans timed out again');
SELECT payments.apply_gateway_status('T-4', 'pending', NULL, 100000, 'tx-4', '201', 'sync', NULL, :run);

SELECT results_eq($$SELECT order_number, counted_as, changed, failures FROM payments_private.run_answers
                     WHERE run_id = $$ || :run || $$ ORDER BY order_number$$,
                  $$VALUES ('T-1', 'not_found', true, 0), ('T-2', 'failed', false, 2),
                           ('T-3', 'checked', true, 0), ('T-4', 'checked', false, 0)$$,
                  'one row per order: the counter of its first answer, whether it changed, its failures');
SELECT is((SELECT ROW(checked, not_found, failed, changed, answered, changed_orders)::text FROM payments.runs
            WHERE id = :run), ROW(0, 0, 0, 0, '{}'::text[], '{}'::text[])::text,
          'the run''s own row is not written while it is open');
SELECT is((SELECT totals FROM payments.recent_runs() WHERE id = :run),
          '{"due": 4, "checked": 2, "not_found": 1, "errors": 2, "changed": 2}'::jsonb,
          'recent_runs shows the open run''s counters so far');
SELECT is((SELECT finished_at FROM payments.recent_runs() WHERE id = :run), NULL, 'and that it is open');

CREATE TEMP TABLE run AS SELECT * FROM payments.finish_run(:run);
SELECT is((SELECT ROW(checked, not_found, failed, changed)::text FROM run), ROW(2, 1, 2, 2)::text,
          'finished: checked 2 (T-3, T-4), not_found 1 (T-1), failed 2 (T-2 twice), changed 2 (T-1, T-3)');
SELECT is((SELECT answered FROM run), ARRAY['T-1', 'T-2', 'T-3', 'T-4'], 'every order once in answered');
SELECT is((SELECT changed_orders FROM run), ARRAY['T-1', 'T-3'], 'the changed ones in changed_orders');
SELECT is((SELECT totals FROM run), '{"due": 4, "checked": 2, "changed": 2, "not_found": 1, "errors": 2}'::jsonb,
          'the totals from the folded counters');
SELECT is((SELECT error FROM run), '2 order(s) could not be checked', 'not ok: T-2 failed');
SELECT is((SELECT count(*) FROM payments_private.run_answers WHERE run_id = :run), 0::bigint,
          'the rows are deleted once folded');
SELECT is((SELECT totals FROM payments.recent_runs() WHERE id = :run), (SELECT totals FROM run),
          'recent_runs shows the finished run''s totals');

-- a run opened before migration 0010 counted on its row: an order its arrays
-- already hold is counted once
CREATE TEMP TABLE due2 AS SELECT * FROM payments.start_sync('0 seconds', '0 seconds', 200, ARRAY['T-3', 'T-4']);
SELECT DISTINCT run_id AS run2 FROM due2 \gset
UPDATE payments.runs SET checked = 1, changed = 1, answered = '{T-3}', changed_orders = '{T-3}' WHERE id = :run2;
SELECT payments.apply_gateway_status('T-3', 'settlement', NULL, 100000, 'tx-3', '200', 'sync', NULL, :run2);
SELECT payments.apply_gateway_status('T-4', 'pending', NULL, 100000, 'tx-4', '201', 'sync', NULL, :run2);
SELECT is((SELECT ROW(ok, checked, changed, answered, changed_orders)::text FROM payments.finish_run(:run2)),
          ROW(true, 2, 1, '{T-3,T-4}'::text[], '{T-3}'::text[])::text,
          'a run open across the upgrade counts each order once');

SELECT * FROM finish();
ROLLBACK;
