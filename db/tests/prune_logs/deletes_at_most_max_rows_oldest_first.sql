-- Rule: prune_logs deletes at most max_rows rows per call, oldest first, and
-- says when more is left, so a backlog is pruned in short steps; a bad max_rows
-- raises PM009.
BEGIN;
SELECT plan(7);

SELECT payments.log_rejection('malformed_json', 'N-' || n) FROM generate_series(1, 5) AS n;
UPDATE payments.webhook_logs SET created_at = now() - interval '40 days' - (substr(order_number, 3)::int * interval '1 day');
-- N-5 is the oldest (45 days), N-1 the youngest (41 days)

CREATE TEMP TABLE first AS SELECT payments.prune_logs(2) AS r;
SELECT is((SELECT r ->> 'deleted_noise' FROM first), '2', 'max_rows 2: 2 deleted');
SELECT is((SELECT r ->> 'more' FROM first), 'true', 'and more is left');
SELECT results_eq($$SELECT order_number FROM payments.webhook_logs WHERE event_type = 'malformed_json' ORDER BY id$$,
                  $$VALUES ('N-1'), ('N-2'), ('N-3')$$, 'the oldest went first');
CREATE TEMP TABLE second AS SELECT payments.prune_logs(10) AS r;
SELECT is((SELECT (r ->> 'deleted_noise') || '/' || (r ->> 'more') FROM second), '3/false',
          'the next call deletes the rest and says nothing more is left');
SELECT throws_ok('SELECT payments.prune_logs(0)', 'PM009', NULL, 'max_rows 0 raises PM009');
SELECT throws_ok('SELECT payments.prune_logs(NULL)', 'PM009', NULL, 'max_rows NULL raises PM009');
SELECT throws_ok($$SELECT payments.prune_logs(10, 'webhook')$$, 'PM009', NULL, 'a webhook cannot prune');

SELECT * FROM finish();
ROLLBACK;
