-- Audit views (payments.audit_*): what a DBA reads from psql to see what is
-- wrong. Each lists the rows behind one kind of problem; all empty = healthy.
-- Readable by payments_readonly; none shows a bearer code. Re-created by
-- every `payments migrate`.
DROP VIEW IF EXISTS payments.audit_paid_orders_missing_tickets, payments.audit_released_orders_holding_capacity,
    payments.audit_paid_products_missing_pickup_code, payments.audit_stock_held_by_dead_orders,
    payments.audit_open_reviews;

-- ticket orders whose goods disagree with their status (orders.repair), with their items
CREATE VIEW payments.audit_paid_orders_missing_tickets AS
SELECT o.order_number, o.status, o.repair, o.paid_at, o.needs_review,
       i.quantity, t.active AS active_tickets, i.finalized_quantity, s.code AS slot
  FROM payments.orders AS o
  JOIN payments.ticket_order_items AS i ON i.order_id = o.id
  JOIN payments.ticket_slots AS s ON s.id = i.slot_id
 CROSS JOIN LATERAL (SELECT count(*) AS active FROM payments.tickets AS x
                      WHERE x.order_item_id = i.id AND x.status = 'active') AS t
 WHERE o.repair IN ('fix_ticket_issued', 'hold_capacity')
    OR (o.kind = 'ticket' AND o.status = 'paid' AND o.shortfall_at IS NOT NULL);

-- failed / expired / refunded ticket orders still holding capacity
CREATE VIEW payments.audit_released_orders_holding_capacity AS
SELECT o.order_number, o.status, o.updated_at, s.code AS slot,
       i.quantity - i.finalized_quantity AS reserved_held, i.finalized_quantity AS sold_held
  FROM payments.orders AS o
  JOIN payments.ticket_order_items AS i ON i.order_id = o.id
  JOIN payments.ticket_slots AS s ON s.id = i.slot_id
 WHERE o.repair = 'release_capacity';

-- product orders whose goods disagree with their status
CREATE VIEW payments.audit_paid_products_missing_pickup_code AS
SELECT o.order_number, o.status, o.repair, o.paid_at, o.pickup_code IS NOT NULL AS has_pickup_code,
       o.stock_confirmed_at, o.stock_released_at, o.needs_review
  FROM payments.orders AS o
 WHERE o.repair IN ('fix_pickup_code', 'hold_stock')
    OR (o.kind = 'product' AND o.status = 'paid' AND o.shortfall_at IS NOT NULL);

-- stock held by failed / expired / refunded product orders
CREATE VIEW payments.audit_stock_held_by_dead_orders AS
SELECT o.order_number, o.status, o.updated_at, v.sku,
       i.quantity - i.finalized_quantity AS reserved_held, i.finalized_quantity AS sold_held
  FROM payments.orders AS o
  JOIN payments.product_order_items AS i ON i.order_id = o.id
  JOIN payments.product_variants AS v ON v.id = i.variant_id
 WHERE o.repair = 'release_stock';

-- slot / variant counters that differ from what their orders imply
CREATE OR REPLACE VIEW payments.audit_counter_drift AS
SELECT * FROM payments.counter_drift();

-- every open review (several may be open on one order), oldest first
CREATE VIEW payments.audit_open_reviews AS
SELECT o.order_number, o.kind, o.status, r.reason, r.subject, r.opened_at, r.opened_by, o.gross_amount
  FROM payments.order_reviews AS r
  JOIN payments.orders AS o ON o.id = r.order_id
 WHERE r.resolved_at IS NULL
 ORDER BY r.opened_at, r.id;

-- repairs made by reconciliation in the last 7 days, newest first
CREATE OR REPLACE VIEW payments.audit_recent_repairs AS
SELECT l.created_at, l.source, l.event_type, l.order_number, l.outcome, l.detail, l.run_id
  FROM payments.webhook_logs AS l
 WHERE l.event_type LIKE 'reconcile\_%' AND l.event_type <> 'reconcile_run'
   AND l.created_at > payments.clock_now() - interval '7 days'
 ORDER BY l.id DESC;
