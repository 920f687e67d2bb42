-- Every webhook / manual / cron call is logged with its decision, no-ops
-- included; a Status API answer from sync or reconcile that changed nothing is
-- only counted in its run, not logged.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-1', NULL, 'webhook');
SELECT test_helpers.gateway('T-1', 'mystery', NULL, 'tx-1', NULL, 'sync');
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', NULL, 'webhook');
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', NULL, 'reconcile');   -- changes nothing
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-1', NULL, 'cron');
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2', NULL, 'manual');

SELECT is(test_helpers.decisions('T-1'),
          ARRAY['noop', 'unknown_status', 'paid', 'gateway_disagreement', 'flagged'],
          'every call is logged with its decision, no-ops included');
SELECT is((SELECT array_agg(source::text ORDER BY id) FROM payments.webhook_logs WHERE order_number = 'T-1'),
          ARRAY['webhook', 'sync', 'webhook', 'cron', 'manual'],
          'with its source; the reconcile answer that changed nothing is not logged');
SELECT is((SELECT array_agg(transaction_id ORDER BY id) FROM payments.webhook_logs
            WHERE order_number = 'T-1'),
          ARRAY['tx-1', 'tx-1', 'tx-1', 'tx-1', 'tx-2'], 'with its transaction id');
SELECT is((SELECT array_agg(detail ->> 'ledger' ORDER BY id) FROM payments.webhook_logs
            WHERE order_number = 'T-1'),
          ARRAY['new', 'unknown', 'advance', 'disagreement', 'new'], 'and the ledger''s decision');
SELECT is((SELECT detail ->> 'new_status' FROM payments.webhook_logs
            WHERE order_number = 'T-1' AND outcome = 'paid'), 'paid', 'the log detail has the new status');
SELECT is((SELECT detail ->> 'previous_status' FROM payments.webhook_logs
            WHERE order_number = 'T-1' AND outcome = 'paid'), 'pending',
          'and the previous status');
SELECT is((SELECT gross_amount FROM payments.webhook_logs WHERE order_number = 'T-1' AND outcome = 'paid'),
          100000.00::numeric(14,2), 'and the amount');
SELECT is((SELECT count(*) FROM payments.webhook_logs
            WHERE order_number = 'T-1' AND signature_valid AND source = 'webhook'), 2::bigint,
          'webhook calls (signature checked by the runner) are marked signature_valid');
CREATE TEMP TABLE result AS
    SELECT payments.apply_gateway_status('T-1', 'pending', NULL, NULL, 'tx-3', '201', 'webhook',
                                         '{"raw": true}') AS r;
SELECT is((SELECT (r ->> 'log_id')::bigint FROM result),
          (SELECT max(id) FROM payments.webhook_logs), 'the returned log_id is the new log row');
SELECT is((SELECT payload FROM payments.webhook_logs ORDER BY id DESC LIMIT 1), '{"raw": true}'::jsonb,
          'the payload is kept');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
