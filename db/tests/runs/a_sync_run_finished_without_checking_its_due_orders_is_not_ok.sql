-- Rule: a sync run proves what it did: opened with start_sync and finished
-- without answering its due orders, it is not ok (whatever the caller passes as
-- totals), and the staleness alert last_sync_age_seconds keeps firing.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT is((SELECT firing FROM payments.alerts() WHERE name = 'last_sync_age_seconds'), true,
          'setup: no sync ever ran, the alert fires');

CREATE TEMP TABLE due AS SELECT * FROM payments.start_sync('0 seconds');
SELECT is((SELECT array_agg(order_number ORDER BY order_number) FROM due), ARRAY['T-1', 'T-2'],
          'start_sync returns the run with its due orders');
SELECT is((SELECT count(DISTINCT run_id) FROM due), 1::bigint, 'all in one run');
SELECT is((SELECT due FROM payments.runs WHERE id = (SELECT DISTINCT run_id FROM due)), 2,
          'the run records how many are due');

CREATE TEMP TABLE run AS
    SELECT * FROM payments.finish_run((SELECT DISTINCT run_id FROM due), '{"checked": 2, "due": 0}');
SELECT is((SELECT ok FROM run), false, 'finished without checking them: not ok');
SELECT isnt((SELECT error FROM run), NULL, 'and records why');
SELECT is((SELECT observed IS NULL AND firing FROM payments.alerts() WHERE name = 'last_sync_age_seconds'), true,
          'the staleness alert does not reset: it still fires');
SELECT is((SELECT outcome FROM payments.webhook_logs WHERE event_type = 'sync_run'), 'error',
          'the sync_run log row says error');

SELECT * FROM finish();
ROLLBACK;
