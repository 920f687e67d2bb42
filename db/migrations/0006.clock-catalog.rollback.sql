-- Rollback of 0006: the catalog functions and their log go (slots and
-- variants stay as they are); the column defaults read the server's clock again (an
-- offset, if the clock was moved, is forgotten: rows written meanwhile keep
-- their times) and the clock goes. The functions of this release stop
-- working until `payments migrate` runs a matching release again.
ALTER TABLE payments.order_reviews ALTER COLUMN opened_at SET DEFAULT now();
ALTER TABLE payments.webhook_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
ALTER TABLE payments.runs ALTER COLUMN started_at SET DEFAULT now();
ALTER TABLE payments.gateway_transactions
    ALTER COLUMN first_seen_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE payments.tickets ALTER COLUMN issued_at SET DEFAULT now();
ALTER TABLE payments.orders
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE payments.product_variants
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE payments.ticket_slots
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET DEFAULT now();
DROP FUNCTION IF EXISTS payments.create_ticket_slot(text, integer, timestamptz, text);
DROP FUNCTION IF EXISTS payments.create_product_variant(text, integer, text, text);
DROP FUNCTION IF EXISTS payments.change_capacity(text, integer, text);
DROP FUNCTION IF EXISTS payments.change_stock(text, integer, text);
DROP FUNCTION IF EXISTS payments_private.require_catalog_key(text, text);
DROP FUNCTION IF EXISTS payments_private.require_catalog_amount(integer, text);
DROP FUNCTION IF EXISTS payments_private.require_catalog_note(text);
DROP TABLE payments.catalog_changes;
-- the audit view of db/views/audit.sql as the previous release had it
CREATE OR REPLACE VIEW payments.audit_recent_repairs AS
SELECT l.created_at, l.source, l.event_type, l.order_number, l.outcome, l.detail, l.run_id
  FROM payments.webhook_logs AS l
 WHERE l.event_type LIKE 'reconcile\_%' AND l.event_type <> 'reconcile_run'
   AND l.created_at > now() - interval '7 days'
 ORDER BY l.id DESC;
DROP FUNCTION IF EXISTS payments.clock_now();
DROP FUNCTION IF EXISTS payments.advance_clock(interval);
DROP FUNCTION payments_private.wall_clock();
DROP FUNCTION payments_private.clock();
DROP FUNCTION payments_private.clock_offset();
DROP TABLE payments.clock;
