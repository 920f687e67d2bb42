-- Every query the runner (payments serve, sync, reconcile, prune) sends, by
-- name. Each is one call to the SQL API in schema payments; the runner role
-- may execute exactly these functions (and the shop's create_*_order), which
-- a test keeps equal to db/grants.sql. Loaded once by runner/db.py. The
-- operator commands' queries are in runner/reports.sql.

-- name: apply_gateway_status
-- Apply one Midtrans status (webhook, sync, reconcile) and get the decision;
-- evidence: notification | status_api | action | local; trigger_only: answer
-- 'confirm' instead of applying a notification that would change anything.
SELECT payments.apply_gateway_status(
    %(order_id)s::text, %(transaction_status)s::text, %(fraud_status)s::text, %(gross_amount)s::numeric,
    %(transaction_id)s::text, %(status_code)s::text, %(source)s::text, %(payload)s::jsonb,
    %(run_id)s::bigint, %(evidence)s::text, %(trigger_only)s::boolean) AS result

-- name: apply_status_not_found
-- Midtrans has no transaction for this order; with a grace, close its window past it.
SELECT payments.apply_status_not_found(%(order_id)s, %(source)s, %(expiry_grace)s, %(run_id)s) AS result

-- name: expire_order
-- Close a pending order's payment window locally (reconcile, past expiry + grace).
SELECT payments.expire_order(%(order_id)s, %(source)s, %(expiry_grace)s, %(even_if_live)s, %(run_id)s,
                             %(payload)s) AS result

-- name: log_rejection
-- Record a notification the webhook refused (a fixed vocabulary of event types).
SELECT payments.log_rejection(%(event_type)s, %(order_id)s, %(detail)s, %(payload)s,
                              %(transaction_status)s, %(status_code)s) AS id

-- name: start_sync
-- Open a sync run; one row per order it must check (order_number NULL: none due).
SELECT run_id, order_number
  FROM payments.start_sync(%(min_age)s, %(recheck_after)s, %(max_rows)s, %(orders)s::text[])

-- name: start_run
-- Open a reconcile or prune run.
SELECT payments.start_run(%(kind)s, %(source)s) AS id

-- name: run_failed
-- One order of a run could not be checked (Midtrans or the database refused).
SELECT payments.run_failed(%(run_id)s, %(order_id)s, %(reason)s) AS failed

-- name: finish_run
-- Close a run: totals from its own counters, plus the runner's extra figures.
SELECT id, kind, started_at, finished_at, ok, totals, error
  FROM payments.finish_run(%(run_id)s, %(extra)s, %(error)s)

-- name: orders_past_expiry
-- Check 5: pending orders past expires_at + grace.
SELECT order_number FROM payments.orders_past_expiry(%(expiry_grace)s, %(max_rows)s)

-- name: reconcile_local
-- One batch of network-free repairs (checks 1-4) inside an open run, one
-- transaction per repair (a procedure: its INOUT totals are the result row).
CALL payments.reconcile_local(%(batch_size)s, %(source)s, %(run_id)s, NULL)

-- name: prune_logs
-- Retention: delete webhook_logs rows past their retention, at most max_rows.
SELECT payments.prune_logs(%(max_rows)s, %(source)s) AS result

-- name: last_runs
-- Latest sync / reconcile / prune runs, for metrics.
SELECT kind, run_id, finished_at, age_seconds, totals, error, last_ok_at FROM payments.last_runs()

-- name: alerts
-- Every alert with observed value, threshold, whether it fires, and a breakdown.
SELECT name, observed, threshold, "window", firing, description, detail FROM payments.alerts()

-- name: acquire_lease
-- One sync / reconcile / prune at a time across processes: take the job's
-- lease (or learn who holds it until when). A row, not a session lock, so it
-- works through a transaction pooler.
SELECT acquired, held_by AS holder, expires_at FROM payments.acquire_lease(%(job)s, %(holder)s, %(ttl)s)

-- name: renew_lease
-- Keep the lease while the run lasts; false: another holder took it over.
SELECT payments.renew_lease(%(job)s, %(holder)s, %(ttl)s) AS renewed

-- name: release_lease
SELECT payments.release_lease(%(job)s, %(holder)s) AS released

-- name: ping
SELECT 1 AS ok

-- name: begin_checkout
-- Checkout: create the order (or find it) and get its Snap token, or claim the Snap call.
SELECT payments.begin_checkout(%(order_id)s::text, %(kind)s::text, %(items)s::jsonb, %(hold)s::interval,
                               %(gross_amount)s::numeric, %(currency)s::text, %(holder)s::text,
                               %(claim_ttl)s::interval) AS result

-- name: finish_checkout
-- Checkout: store the token Snap returned (the first one stored wins).
SELECT payments.finish_checkout(%(order_id)s::text, %(holder)s::text, %(snap_token)s::text,
                                %(redirect_url)s::text) AS result

-- name: abandon_checkout
-- Checkout: Snap refused or is unreachable; close the order's payment window now.
SELECT payments.abandon_checkout(%(order_id)s::text, %(holder)s::text, %(reason)s::text) AS result
