BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 1);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 1);
SELECT test_helpers.product_order('P-PAID', 'V1', 1);
SELECT test_helpers.product_order('P-FAILED', 'V1', 1);
SELECT test_helpers.product_order('P-STALE', 'V1', 1);
SELECT test_helpers.force_status('T-PAID', 'paid');
SELECT test_helpers.force_status('T-EXPIRED', 'expired');
SELECT test_helpers.force_status('P-PAID', 'paid');
SELECT test_helpers.force_status('P-FAILED', 'failed');
UPDATE payments.orders SET expires_at = now() - interval '1 hour' WHERE order_number = 'P-STALE';

CREATE TEMP TABLE result AS SELECT payments.reconcile_local(500, 'cron') AS r;
CREATE TEMP TABLE run AS SELECT * FROM payments.runs WHERE id = (SELECT (r ->> 'run_id')::bigint FROM result);

SELECT is((SELECT count(*) FROM run), 1::bigint, 'one run row');
SELECT is((SELECT kind || '/' || source FROM run), 'reconcile/cron', 'kind reconcile, source cron');
SELECT isnt((SELECT finished_at FROM run), NULL, 'the run is finished');
SELECT is((SELECT totals FROM run), (SELECT r FROM result), 'the totals recorded are those returned');
SELECT is((SELECT totals - 'run_id' FROM run),
          '{"errors": 0, "flagged": 0, "repaired": 4, "mismatches_found": 4, "pending_past_expiry": 1,
            "reconcile_fix_ticket_issued": 1, "reconcile_release_capacity": 1,
            "reconcile_fix_pickup_code": 1, "reconcile_release_stock": 1}'::jsonb,
          'totals: 4 found, 4 repaired, one of each kind, 1 pending order waiting for Midtrans');
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
