-- Rule: a sync run whose due orders were each answered in it
-- (apply_gateway_status or apply_status_not_found with its run_id) is ok, and
-- the staleness alert last_sync_age_seconds resets.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.ticket_order('T-3', 'S1', 1);
CREATE TEMP TABLE due AS SELECT * FROM payments.start_sync('0 seconds');
SELECT DISTINCT run_id AS run FROM due \gset

SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'sync', NULL, :run)
              ->> 'decision', 'paid', 'T-1 answered: paid');
SELECT is(payments.apply_gateway_status('T-2', 'pending', NULL, 100000, 'tx-2', '201', 'sync', NULL, :run)
              ->> 'decision', 'noop', 'T-2 answered: still pending');
SELECT is(payments.apply_status_not_found('T-3', 'sync', NULL, :run) ->> 'decision', 'not_found',
          'T-3 answered: no transaction at Midtrans');

CREATE TEMP TABLE run AS SELECT * FROM payments.finish_run(:run);
SELECT is((SELECT ok FROM run), true, 'every due order was answered: ok');
SELECT is((SELECT totals FROM run),
          '{"due": 3, "checked": 2, "changed": 1, "not_found": 1, "errors": 0}'::jsonb,
          'totals from the counters: 3 due, 2 answered with a status (1 order changed), 1 not found');
SELECT is((SELECT firing FROM payments.alerts() WHERE name = 'last_sync_age_seconds'), false,
          'the staleness alert resets');

SELECT * FROM finish();
ROLLBACK;
