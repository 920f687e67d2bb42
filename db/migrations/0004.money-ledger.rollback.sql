-- Rollback of 0004: back to one review reason per order and the order-level
-- gateway columns. The ledger keeps its rows (rank re-derived from stage).
-- The functions of this release stop working until `payments migrate` runs a
-- matching release again.
DROP VIEW IF EXISTS payments.audit_paid_orders_missing_tickets, payments.audit_released_orders_holding_capacity,
    payments.audit_paid_products_missing_pickup_code, payments.audit_stock_held_by_dead_orders,
    payments.audit_open_reviews, payments.audit_recent_repairs, payments.audit_counter_drift;
DROP INDEX payments.orders_repair_idx;
DROP INDEX payments.orders_repair_since_idx;
ALTER TABLE payments.orders DROP COLUMN repair;
DROP SCHEMA payments_private CASCADE;

DROP INDEX payments.webhook_logs_run_idx;
ALTER TABLE payments.runs DROP CONSTRAINT runs_kind_check;
DELETE FROM payments.runs WHERE kind = 'prune';
ALTER TABLE payments.runs ADD CONSTRAINT runs_kind_check CHECK (kind IN ('sync', 'reconcile')),
    DROP COLUMN due, DROP COLUMN due_orders, DROP COLUMN answered, DROP COLUMN changed_orders, DROP COLUMN checked, DROP COLUMN changed, DROP COLUMN not_found,
    DROP COLUMN failed, DROP COLUMN local_done, DROP COLUMN ok;

DROP INDEX payments.orders_shortfall_idx;
DROP INDEX payments.orders_review_idx;
ALTER TABLE payments.orders
    DROP COLUMN expired_locally_at,
    DROP COLUMN refunded_manually_at,
    DROP COLUMN accepted_amount,
    DROP COLUMN shortfall_at,
    ADD COLUMN gateway_status text,
    ADD COLUMN gateway_transaction_id text,
    ADD COLUMN fraud_status text,
    ADD COLUMN gateway_event_at timestamptz,
    ADD COLUMN paid_amount numeric(14,2),
    ADD COLUMN review_reason text;
UPDATE payments.orders AS o
   SET review_reason = r.reason
  FROM (SELECT DISTINCT ON (order_id) order_id, reason FROM payments.order_reviews
         WHERE resolved_at IS NULL ORDER BY order_id, opened_at DESC) AS r
 WHERE r.order_id = o.id;
UPDATE payments.orders SET needs_review = (review_reason IS NOT NULL);
ALTER TABLE payments.orders
    ADD CONSTRAINT orders_review_reason_check CHECK (needs_review = (review_reason IS NOT NULL));
COMMENT ON COLUMN payments.orders.needs_review IS NULL;
DROP TABLE payments.order_reviews;

ALTER TABLE payments.gateway_transactions
    DROP CONSTRAINT gateway_transactions_stage_check,
    DROP CONSTRAINT gateway_transactions_amounts_check,
    ADD COLUMN rank integer;
UPDATE payments.gateway_transactions SET rank = CASE WHEN stage < 20 THEN 1 WHEN stage < 30 THEN 2
                                                     WHEN stage < 40 THEN 3 ELSE 4 END;
ALTER TABLE payments.gateway_transactions
    ALTER COLUMN rank SET NOT NULL,
    DROP COLUMN stage, DROP COLUMN gross_amount, DROP COLUMN refund_amount,
    DROP COLUMN midtrans_at, DROP COLUMN seen_paid;
COMMENT ON TABLE payments.gateway_transactions IS NULL;

CREATE INDEX orders_ticket_unfulfilled_idx ON payments.orders (id)
    WHERE kind = 'ticket' AND status = 'paid' AND NOT needs_review
      AND (tickets_issued_at IS NULL OR capacity_released_at IS NOT NULL);
CREATE INDEX orders_ticket_unreleased_idx ON payments.orders (id)
    WHERE kind = 'ticket' AND status IN ('failed', 'expired', 'refunded')
      AND capacity_released_at IS NULL;
CREATE INDEX orders_product_unfulfilled_idx ON payments.orders (id)
    WHERE kind = 'product' AND status = 'paid' AND NOT needs_review
      AND (pickup_code IS NULL OR stock_confirmed_at IS NULL OR stock_released_at IS NOT NULL);
CREATE INDEX orders_product_unreleased_idx ON payments.orders (id)
    WHERE kind = 'product' AND status IN ('failed', 'expired', 'refunded')
      AND stock_released_at IS NULL;
CREATE INDEX orders_review_idx ON payments.orders (updated_at) WHERE needs_review;
CREATE INDEX orders_paid_unfulfilled_since_idx ON payments.orders (paid_at)
    WHERE status = 'paid'
      AND ((kind = 'ticket' AND (tickets_issued_at IS NULL OR capacity_released_at IS NOT NULL))
        OR (kind = 'product' AND (pickup_code IS NULL OR stock_confirmed_at IS NULL
                                  OR stock_released_at IS NOT NULL)));

DROP TABLE payments.settings;

REVOKE ALL ON SCHEMA payments FROM payments_operator, payments_bearer_codes;
DO $$
BEGIN
    DROP ROLE IF EXISTS payments_operator;
EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
    RAISE NOTICE 'payments_operator still owns or holds privileges elsewhere, or this login may not drop roles; kept';
END
$$;
DO $$
BEGIN
    DROP ROLE IF EXISTS payments_bearer_codes;
EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
    RAISE NOTICE 'payments_bearer_codes still owns or holds privileges elsewhere, or this login may not drop roles; kept';
END
$$;
