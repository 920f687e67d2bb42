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

-- Refunds (payments refund, payments resolve): payments_operator only.

-- name: request_refund
-- Records a refund request (its refund_key) before the Refund API call, or returns the open one.
SELECT payments.request_refund(%(order_id)s::text, %(amount)s::numeric, %(reason)s::text,
                               %(transaction_id)s::text, %(goods)s::jsonb) AS result

-- name: record_refund
-- Midtrans refunded: apply its status, return the named goods, close the request (one transaction).
SELECT payments.record_refund(%(request_id)s::bigint, %(answer)s::jsonb, %(status)s::jsonb) AS result

-- name: close_refund_request
-- Midtrans refused the refund, or the call failed for certain.
SELECT payments.close_refund_request(%(request_id)s::bigint, %(state)s::text, %(answer)s::jsonb) AS result

-- name: open_reviews
-- The open reviews of one order, oldest first.
SELECT reason, subject, opened_at FROM payments.open_reviews(%(order_id)s)

-- name: resolve_review
-- A person's decision on one open review.
SELECT payments.resolve_review(%(order_id)s::text, %(reason)s::text, %(action)s::text, %(note)s::text,
                               %(subject)s::text) AS result
