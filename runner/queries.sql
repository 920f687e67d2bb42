-- Every query the runner sends, by name. Each is one call to the SQL API in
-- schema payments (the runner role may execute those functions and nothing
-- else). Loaded once by runner/db.py.

-- name: apply_gateway_status
-- Apply one Midtrans status (webhook, sync, reconcile) and get the decision;
-- evidence: notification | status_api | action | local; trigger_only: answer
-- 'confirm' instead of applying a notification that would change anything.
SELECT payments.apply_gateway_status(
    %(order_id)s::text, %(transaction_status)s::text, %(fraud_status)s::text, %(gross_amount)s::numeric,
    %(transaction_id)s::text, %(status_code)s::text, %(source)s::text, %(payload)s::jsonb,
    %(run_id)s::bigint, %(evidence)s::text, %(trigger_only)s::boolean) AS result

-- name: apply_status_not_found
-- Midtrans has no transaction for this order; expire it past expiry + grace.
SELECT payments.apply_status_not_found(%(order_id)s, %(source)s, %(expiry_grace)s, %(run_id)s) AS result

-- name: log_event
-- Record an event the state machine never saw (a rejected webhook).
SELECT payments.log_event(%(source)s, %(event_type)s, %(outcome)s, %(order_id)s, %(detail)s,
                          %(payload)s, %(signature_valid)s, %(transaction_status)s,
                          %(status_code)s, %(run_id)s) AS id

-- name: orders_due_for_sync
-- Pending orders to ask the Status API about.
SELECT order_number FROM payments.orders_due_for_sync(%(min_age)s, %(recheck_after)s, %(max_rows)s)

-- name: orders_past_expiry
-- DESIGN §7 check 5: pending orders past expires_at + grace.
SELECT order_number FROM payments.orders_past_expiry(%(expiry_grace)s, %(max_rows)s)

-- name: reconcile_local
-- One batch of network-free repairs (checks 1-4) inside an open run.
SELECT payments.reconcile_local(%(batch_size)s, %(source)s, %(run_id)s) AS totals

-- name: start_run
-- Open a sync / reconcile run.
SELECT payments.start_run(%(kind)s, %(source)s) AS id

-- name: finish_run
-- Close a run with its totals.
SELECT id, kind, started_at, finished_at, totals, error
  FROM payments.finish_run(%(run_id)s, %(totals)s, %(error)s)

-- name: last_runs
-- Latest sync / reconcile runs, for metrics.
SELECT kind, run_id, finished_at, age_seconds, totals, error, last_ok_at FROM payments.last_runs()

-- name: try_lock
-- Session advisory lock: one reconciler (or one scheduled sync) at a time.
SELECT pg_try_advisory_lock(%(key)s) AS locked

-- name: unlock
SELECT pg_advisory_unlock(%(key)s) AS unlocked

-- name: ping
SELECT 1 AS ok

-- name: alerts
-- DESIGN §8: every alert with observed value, threshold and whether it fires.
SELECT name, observed, threshold, "window", firing, description FROM payments.alerts()

-- name: recent_runs
-- The latest sync / reconcile runs with their totals (needs SELECT on payments.runs).
SELECT id, kind, source, started_at, finished_at, totals, error
  FROM payments.runs ORDER BY id DESC LIMIT %(limit)s

-- name: order_summary
-- One order with items and ticket counts.
SELECT payments.order_summary(%(order_id)s) AS summary

-- name: order_timeline
-- Every webhook_logs entry of one order, oldest first.
SELECT at, source, event_type, transaction_status, fraud_status, transaction_id, outcome, detail
  FROM payments.order_timeline(%(order_id)s)

-- name: check_invariants
-- DESIGN §9: zero rows = healthy.
SELECT invariant, subject, detail FROM payments.check_invariants()
