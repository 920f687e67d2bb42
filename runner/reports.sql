-- The queries of the operator commands (payments alerts / runs / audit /
-- order), by name. They run under a person's login: payments_readonly (or
-- payments_operator, which includes it) may execute every function here,
-- except record_operator_action (payments capture / approve / deny / cancel):
-- payments_operator only.

-- name: alerts
-- Every alert with observed value, threshold, whether it fires, and a breakdown.
SELECT name, observed, threshold, "window", firing, description, detail FROM payments.alerts()

-- name: recent_runs
-- The latest sync / reconcile / prune runs with their totals.
SELECT id, kind, source, started_at, finished_at, ok, totals, error FROM payments.recent_runs(%(limit)s)

-- name: order_summary
-- One order with its ledger, money, open reviews, items and ticket counts.
SELECT payments.order_summary(%(order_id)s) AS summary

-- name: order_timeline
-- Every webhook_logs entry of one order, oldest first.
SELECT at, source, event_type, transaction_status, fraud_status, transaction_id, outcome, detail
  FROM payments.order_timeline(%(order_id)s)

-- name: check_invariants
-- Zero rows = healthy.
SELECT invariant, subject, detail FROM payments.check_invariants()

-- name: record_operator_action
-- An operator's capture / approve / deny / cancel at Midtrans and its outcome
-- (payments_operator; session_user is the actor); applies Midtrans' answer.
SELECT payments.record_operator_action(%(order_id)s::text, %(action)s::text, %(outcome)s::text,
                                       %(answer)s::jsonb, %(requested_amount)s::numeric,
                                       %(note)s::text) AS result

-- name: may_record_operator_action
-- Whether this login may record operator actions: asked before Midtrans is.
SELECT has_function_privilege(
    'payments.record_operator_action(text, text, text, jsonb, numeric, text)', 'EXECUTE') AS allowed
