-- Single-column rules as domains instead of table CHECK constraints.
--
-- PostgreSQL evaluates every CHECK constraint of a table on every INSERT and
-- UPDATE, whichever columns change, and rebuilds each constraint's expression
-- from its stored text once per statement (stringToNode + planning). A
-- settlement writes six tables in about ten statements: measured with
-- valgrind, the constraints were 19% of its instructions, most of it the
-- orders table's rules on columns a settlement never writes (order_number,
-- kind, currency, gross_amount). A domain's rule is parsed once per backend
-- (the type cache) and checked only when that column is written, so the same
-- rules cost almost nothing on the hot path. Multi-column rules stay CHECK
-- constraints. See docs/ARCHITECTURE.md ("Rules as domains").
--
-- Changing a column's type is blocked by the views and the generated column
-- that read it: the views are saved, dropped and re-created (with their
-- grants) around the change, orders.repair is dropped and re-added (a table
-- rewrite of orders, once).
-- depends: 0008.checkout

CREATE DOMAIN payments.order_number AS text
    CHECK (VALUE ~ '^[A-Za-z0-9._~-]{1,50}$' AND VALUE NOT IN ('.', '..'));
COMMENT ON DOMAIN payments.order_number IS
    'Midtrans order_id: 1-50 of A-Z a-z 0-9 . _ ~ -, not . or .. (a URL path segment)';
CREATE DOMAIN payments.order_kind AS text CHECK (VALUE IN ('ticket', 'product'));
CREATE DOMAIN payments.order_status AS text CHECK (VALUE IN ('pending', 'paid', 'failed', 'expired', 'refunded'));
CREATE DOMAIN payments.currency_code AS text CHECK (VALUE ~ '^[A-Z]{3}$');
CREATE DOMAIN payments.positive_amount AS numeric(14,2) CHECK (VALUE > 0);
CREATE DOMAIN payments.nonnegative_amount AS numeric(14,2) CHECK (VALUE >= 0);
CREATE DOMAIN payments.positive_integer AS integer CHECK (VALUE > 0);
-- an item's quantity: 0 once every unit went back in a refund (0007.refunds)
CREATE DOMAIN payments.item_quantity AS integer CHECK (VALUE >= 0);
CREATE DOMAIN payments.catalog_code AS text CHECK (VALUE <> '');
CREATE DOMAIN payments.ledger_stage AS smallint
    CHECK (VALUE IN (10, 11, 20, 21, 22, 30, 31, 32, 33, 40, 41, 42, 43));
CREATE DOMAIN payments.ticket_status AS text CHECK (VALUE IN ('active', 'void'));
CREATE DOMAIN payments.log_source AS text CHECK (VALUE IN ('webhook', 'sync', 'reconcile', 'cron', 'manual'));

CREATE TEMPORARY TABLE saved_views ON COMMIT DROP AS
SELECT c.oid::regclass::text AS name, pg_catalog.pg_get_viewdef(c.oid) AS body,
       (SELECT coalesce(array_agg(format('GRANT %s ON %s TO %I', a.privilege_type, c.oid::regclass,
                                         a.grantee::regrole)), '{}')
          FROM aclexplode(c.relacl) AS a WHERE a.grantee <> c.relowner AND a.grantee <> 0) AS grants,
       (SELECT coalesce(array_agg(format('GRANT %s (%I) ON %s TO %I', a.privilege_type, att.attname,
                                         c.oid::regclass, a.grantee::regrole)), '{}')
          FROM pg_catalog.pg_attribute AS att, aclexplode(att.attacl) AS a
         WHERE att.attrelid = c.oid AND a.grantee <> 0) AS column_grants
  FROM pg_catalog.pg_class AS c
 WHERE c.relnamespace = 'payments'::regnamespace AND c.relkind = 'v';

DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT name FROM saved_views LOOP
        EXECUTE format('DROP VIEW %s', v.name);
    END LOOP;
END
$$;

ALTER TABLE payments.orders DROP COLUMN repair;   -- its indexes go with it

ALTER TABLE payments.orders
    DROP CONSTRAINT orders_order_number_check,
    DROP CONSTRAINT orders_order_number_not_dot_segment,
    DROP CONSTRAINT orders_kind_check,
    DROP CONSTRAINT orders_status_check,
    DROP CONSTRAINT orders_gross_amount_check,
    DROP CONSTRAINT orders_currency_check,
    DROP CONSTRAINT orders_accepted_amount_check,
    ALTER COLUMN order_number TYPE payments.order_number,
    ALTER COLUMN kind TYPE payments.order_kind,
    ALTER COLUMN status TYPE payments.order_status,
    ALTER COLUMN gross_amount TYPE payments.positive_amount,
    ALTER COLUMN currency TYPE payments.currency_code,
    ALTER COLUMN accepted_amount TYPE payments.positive_amount;

ALTER TABLE payments.gateway_transactions
    DROP CONSTRAINT gateway_transactions_stage_check,
    DROP CONSTRAINT gateway_transactions_amounts_check,
    ALTER COLUMN stage TYPE payments.ledger_stage,
    ALTER COLUMN gross_amount TYPE payments.positive_amount,
    ALTER COLUMN refund_amount TYPE payments.nonnegative_amount;

ALTER TABLE payments.tickets
    DROP CONSTRAINT tickets_status_check,
    DROP CONSTRAINT tickets_seq_check,
    ALTER COLUMN status TYPE payments.ticket_status,
    ALTER COLUMN seq TYPE payments.positive_integer;

ALTER TABLE payments.ticket_order_items
    DROP CONSTRAINT ticket_order_items_quantity_check,
    DROP CONSTRAINT ticket_order_items_unit_price_check,
    ALTER COLUMN quantity TYPE payments.item_quantity,
    ALTER COLUMN unit_price TYPE payments.nonnegative_amount;

ALTER TABLE payments.product_order_items
    DROP CONSTRAINT product_order_items_quantity_check,
    DROP CONSTRAINT product_order_items_unit_price_check,
    ALTER COLUMN quantity TYPE payments.item_quantity,
    ALTER COLUMN unit_price TYPE payments.nonnegative_amount;

ALTER TABLE payments.ticket_slots
    DROP CONSTRAINT ticket_slots_code_check,
    ALTER COLUMN code TYPE payments.catalog_code;

ALTER TABLE payments.product_variants
    DROP CONSTRAINT product_variants_sku_check,
    ALTER COLUMN sku TYPE payments.catalog_code;

ALTER TABLE payments.webhook_logs
    DROP CONSTRAINT webhook_logs_source_check,
    ALTER COLUMN source TYPE payments.log_source;

ALTER TABLE payments.orders ADD COLUMN repair text GENERATED ALWAYS AS (
    payments_private.repair_for(kind, status, shortfall_at, tickets_issued_at, capacity_released_at,
                                pickup_code, stock_confirmed_at, stock_released_at)) STORED;
CREATE INDEX orders_repair_idx ON payments.orders (id) WHERE repair IS NOT NULL;
CREATE INDEX orders_repair_since_idx ON payments.orders (paid_at)
    WHERE repair IN ('fix_ticket_issued', 'fix_pickup_code');

DO $$
DECLARE
    v record;
    g text;
BEGIN
    FOR v IN SELECT * FROM saved_views ORDER BY name LOOP
        EXECUTE format('CREATE VIEW %s AS %s', v.name, v.body);
        FOREACH g IN ARRAY v.grants || v.column_grants LOOP
            EXECUTE g;
        END LOOP;
    END LOOP;
    IF to_regrole('payments_readonly') IS NOT NULL THEN
        GRANT SELECT (repair) ON payments.orders TO payments_readonly;
    END IF;
END
$$;
