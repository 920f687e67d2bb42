-- Audit views (payments.audit_*): what a DBA reads from psql to see what is
-- wrong. Each lists the rows behind one kind of problem; all empty = healthy.
-- Readable by payments_readonly. Re-created by every `payments migrate`.

-- paid ticket orders without their tickets or capacity finalization
CREATE OR REPLACE VIEW payments.audit_paid_orders_missing_tickets AS
SELECT o.order_number, o.paid_at, o.needs_review, o.review_reason,
       i.quantity, t.active AS active_tickets, i.finalized_quantity, s.code AS slot
  FROM payments.orders AS o
  JOIN payments.ticket_order_items AS i ON i.order_id = o.id
  JOIN payments.ticket_slots AS s ON s.id = i.slot_id
 CROSS JOIN LATERAL (SELECT count(*) AS active FROM payments.tickets AS x
                      WHERE x.order_item_id = i.id AND x.status = 'active') AS t
 WHERE o.kind = 'ticket' AND o.status = 'paid'
   AND (t.active <> i.quantity OR i.finalized_quantity <> i.quantity OR o.capacity_released_at IS NOT NULL);

-- failed / expired / refunded ticket orders still holding capacity
CREATE OR REPLACE VIEW payments.audit_released_orders_holding_capacity AS
SELECT o.order_number, o.status, o.updated_at, s.code AS slot,
       i.quantity - i.finalized_quantity AS reserved_held, i.finalized_quantity AS sold_held
  FROM payments.orders AS o
  JOIN payments.ticket_order_items AS i ON i.order_id = o.id
  JOIN payments.ticket_slots AS s ON s.id = i.slot_id
 WHERE o.kind = 'ticket' AND o.status IN ('failed', 'expired', 'refunded')
   AND (o.capacity_released_at IS NULL OR i.finalized_quantity > 0);

-- paid product orders without pickup code or stock confirmation
CREATE OR REPLACE VIEW payments.audit_paid_products_missing_pickup_code AS
SELECT o.order_number, o.paid_at, o.pickup_code IS NOT NULL AS has_pickup_code,
       o.stock_confirmed_at, o.stock_released_at, o.needs_review, o.review_reason
  FROM payments.orders AS o
 WHERE o.kind = 'product' AND o.status = 'paid'
   AND (o.pickup_code IS NULL OR o.stock_confirmed_at IS NULL OR o.stock_released_at IS NOT NULL);

-- stock held by failed / expired / refunded product orders
CREATE OR REPLACE VIEW payments.audit_stock_held_by_dead_orders AS
SELECT o.order_number, o.status, o.updated_at, v.sku,
       i.quantity - i.finalized_quantity AS reserved_held, i.finalized_quantity AS sold_held
  FROM payments.orders AS o
  JOIN payments.product_order_items AS i ON i.order_id = o.id
  JOIN payments.product_variants AS v ON v.id = i.variant_id
 WHERE o.kind = 'product' AND o.status IN ('failed', 'expired', 'refunded')
   AND (o.stock_released_at IS NULL OR i.finalized_quantity > 0);

-- slot / variant counters that differ from what their orders imply
CREATE OR REPLACE VIEW payments.audit_counter_drift AS
SELECT * FROM payments.counter_drift();

-- orders flagged for a person to decide
CREATE OR REPLACE VIEW payments.audit_open_reviews AS
SELECT o.order_number, o.kind, o.status, o.review_reason, o.gateway_status,
       o.gateway_transaction_id, o.gross_amount, o.paid_amount, o.updated_at
  FROM payments.orders AS o
 WHERE o.needs_review;

-- repairs made by reconciliation in the last 7 days, newest first
CREATE OR REPLACE VIEW payments.audit_recent_repairs AS
SELECT l.created_at, l.source, l.event_type, l.order_number, l.outcome, l.detail, l.run_id
  FROM payments.webhook_logs AS l
 WHERE l.event_type LIKE 'reconcile\_%' AND l.event_type <> 'reconcile_run'
   AND l.created_at > now() - interval '7 days'
 ORDER BY l.id DESC;
