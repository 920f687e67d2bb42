-- Rule: a reconcile run's totals come from what its steps did (checked,
-- changed, errors, flagged, one count per repair kind); finish_run records
-- them in payments.runs and in one reconcile_run log row, and every repair row
-- carries the run id and source.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 1);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 1);
SELECT test_helpers.product_order('P-PAID', 'V1', 1);
SELECT test_helpers.product_order('P-FAILED', 'V1', 1);
SELECT test_helpers.product_order('P-STALE', 'V1', 1);
SELECT test_helpers.paid_without_goods('T-PAID');
SELECT test_helpers.closed_without_release('T-EXPIRED', 'expire');
SELECT test_helpers.paid_without_goods('P-PAID');
SELECT test_helpers.closed_without_release('P-FAILED', 'cancel');
-- past expiry, but only Midtrans can say it was not paid: not a local repair
UPDATE payments.orders SET expires_at = now() - interval '1 hour' WHERE order_number = 'P-STALE';

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all('cron');

SELECT is((SELECT count(*) FROM payments.runs), 1::bigint, 'one run row');
SELECT is((SELECT kind || '/' || source FROM run), 'reconcile/cron', 'kind reconcile, source cron');
SELECT isnt((SELECT finished_at FROM run), NULL, 'the run is finished');
SELECT is((SELECT totals FROM run),
          '{"errors": 0, "flagged": 0, "corrected": 0, "checked": 4, "changed": 4, "not_found": 0,
            "mismatches_found": 4, "repaired": 4,
            "reconcile_fix_ticket_issued": 1, "reconcile_release_capacity": 1,
            "reconcile_fix_pickup_code": 1, "reconcile_release_stock": 1}'::jsonb,
          'totals: 4 checked, 4 changed, one of each kind');
SELECT is((SELECT ok FROM run), true, 'the run is ok');
SELECT is((SELECT outcome FROM payments.webhook_logs
            WHERE event_type = 'reconcile_run' AND run_id = (SELECT id FROM run)), 'ok',
          'a reconcile_run log row with outcome ok');
SELECT is((SELECT detail -> 'totals' FROM payments.webhook_logs
            WHERE event_type = 'reconcile_run' AND run_id = (SELECT id FROM run)),
          (SELECT totals FROM run), 'carrying the totals');
SELECT is((SELECT count(*) FROM payments.webhook_logs
            WHERE run_id = (SELECT id FROM run) AND event_type LIKE 'reconcile\_%' AND source = 'cron'),
          5::bigint, '4 repair rows + 1 run row, all tagged with the run and source');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
