-- Rule: payments.runs does not grow forever (a sync every minute is half a
-- million rows a year). prune_logs deletes finished runs older than
-- retention_noise once no kept log row points at them, and always keeps the
-- newest run and the newest ok run of each kind (the last_* alerts read them).
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
-- old sync runs: 1..5 ok (3 applied a payment: its decision names it), 6 failed
CREATE TEMP TABLE old (n integer, id bigint);
DO $$ BEGIN
    FOR n IN 1..6 LOOP
        INSERT INTO old SELECT n, s.run_id FROM payments.start_sync() AS s LIMIT 1;
    END LOOP;
END $$;
SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 150000, 'tx-1', '200', 'sync', NULL,
                                     (SELECT id FROM old WHERE n = 3));
SELECT payments.finish_run(id, '{}'::jsonb, CASE WHEN n = 6 THEN 'Midtrans down' END) FROM old ORDER BY n;
UPDATE payments.runs SET started_at = now() - interval '40 days', finished_at = now() - interval '40 days'
 WHERE id IN (SELECT id FROM old);
UPDATE payments.webhook_logs SET created_at = now() - interval '40 days' WHERE event_type = 'sync_run';

CREATE TEMP TABLE result AS SELECT payments.prune_logs(100, 'manual') AS r;
SELECT is((SELECT (r ->> 'deleted_runs')::integer FROM result), 3, 'three old runs went');
SELECT is((SELECT array_agg(n ORDER BY n) FROM old WHERE id IN (SELECT id FROM payments.runs)), ARRAY[3, 5, 6],
          'kept: the run a kept decision names (3), the newest ok run (5), the newest run (6)');
SELECT is((SELECT count(*) FROM payments.webhook_logs WHERE run_id = (SELECT id FROM old WHERE n = 3)), 1::bigint,
          'the decision still names its run');
SELECT is((SELECT error FROM payments.last_runs() WHERE kind = 'sync'), 'Midtrans down', 'last_runs still shows the failed newest');
SELECT is((SELECT count(*) FROM payments.runs WHERE kind = 'prune'), 1::bigint, 'the prune run itself stays');
SELECT is((SELECT count(*) FROM payments.check_invariants()), 0::bigint, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
