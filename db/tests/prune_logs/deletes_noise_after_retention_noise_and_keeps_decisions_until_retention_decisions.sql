-- Rule: prune_logs deletes noise (rejections, decisions that changed nothing,
-- run summaries) older than retention_noise (30 days) and everything else
-- (decisions that changed an order, repairs, operator actions) only once older
-- than retention_decisions (400 days); changing the settings changes the bounds.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT payments.log_rejection('signature_invalid', 'T-1');                      -- noise
SELECT test_helpers.gateway('T-1', 'settlement');                               -- decision: paid
SELECT test_helpers.gateway('T-1', 'settlement');                               -- noise: noop
SELECT test_helpers.gateway('T-2', 'settlement', 'challenge');                   -- decision: flagged
SELECT payments.resolve_review('T-2', 'fraud_challenge', 'dismiss');              -- operator action
SELECT payments.finish_run(payments.start_run('reconcile', 'manual'));           -- noise: run summary
CREATE TEMP TABLE kinds AS
    SELECT id, CASE WHEN event_type IN ('signature_invalid', 'reconcile_run') OR outcome = 'noop'
                    THEN 'noise' ELSE 'decision' END AS kind
      FROM payments.webhook_logs;
SELECT is((SELECT array_agg(kind ORDER BY id) FROM kinds),
          ARRAY['noise', 'decision', 'noise', 'decision', 'decision', 'noise'], 'setup: 3 noise rows, 3 decisions');

-- everything is 31 days old: only the noise goes
UPDATE payments.webhook_logs SET created_at = now() - interval '31 days';
CREATE TEMP TABLE first AS SELECT payments.prune_logs() AS r;
SELECT is((SELECT r ->> 'deleted_noise' FROM first), '3', 'the 3 noise rows are deleted');
SELECT is((SELECT r ->> 'deleted_decisions' FROM first), '0', 'no decision');
SELECT is_empty($$SELECT * FROM payments.webhook_logs JOIN kinds USING (id) WHERE kinds.kind = 'noise'$$,
                'no old noise is left');
SELECT is((SELECT count(*) FROM payments.webhook_logs JOIN kinds USING (id) WHERE kinds.kind = 'decision'),
          3::bigint, 'the decisions are kept');

-- 401 days old: the decisions go too
UPDATE payments.webhook_logs SET created_at = now() - interval '401 days' WHERE id IN (SELECT id FROM kinds);
SELECT is(payments.prune_logs() ->> 'deleted_decisions', '3', 'decisions older than 400 days are deleted');
SELECT is_empty('SELECT * FROM payments.webhook_logs JOIN kinds USING (id)', 'none of the old rows is left');

-- a shorter retention_noise prunes younger noise
SELECT payments.log_rejection('rejected', 'T-1') AS young \gset
UPDATE payments.webhook_logs SET created_at = now() - interval '2 days' WHERE id = :young;
UPDATE payments.settings SET value = '1 day' WHERE name = 'retention_noise';
SELECT payments.prune_logs();
SELECT is_empty(format('SELECT * FROM payments.webhook_logs WHERE id = %s', :young),
                'with retention_noise 1 day, a 2-day-old rejection is pruned');

SELECT * FROM finish();
ROLLBACK;
