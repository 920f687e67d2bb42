-- Back to table CHECK constraints (see 0009.domain-checks.sql).
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

ALTER TABLE payments.orders DROP COLUMN repair;

ALTER TABLE payments.orders
    ALTER COLUMN order_number TYPE text,
    ALTER COLUMN kind TYPE text,
    ALTER COLUMN status TYPE text,
    ALTER COLUMN gross_amount TYPE numeric(14,2),
    ALTER COLUMN currency TYPE text,
    ALTER COLUMN accepted_amount TYPE numeric(14,2),
    ADD CONSTRAINT orders_order_number_check CHECK (order_number ~ '^[A-Za-z0-9._~-]{1,50}$'),
    ADD CONSTRAINT orders_order_number_not_dot_segment CHECK (order_number NOT IN ('.', '..')),
    ADD CONSTRAINT orders_kind_check CHECK (kind IN ('ticket', 'product')),
    ADD CONSTRAINT orders_status_check CHECK (status IN ('pending', 'paid', 'failed', 'expired', 'refunded')),
    ADD CONSTRAINT orders_gross_amount_check CHECK (gross_amount > 0),
    ADD CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT orders_accepted_amount_check CHECK (accepted_amount > 0);

ALTER TABLE payments.gateway_transactions
    ALTER COLUMN stage TYPE smallint,
    ALTER COLUMN gross_amount TYPE numeric(14,2),
    ALTER COLUMN refund_amount TYPE numeric(14,2),
    ADD CONSTRAINT gateway_transactions_stage_check
        CHECK (stage IN (10, 11, 20, 21, 22, 30, 31, 32, 33, 40, 41, 42, 43)),
    ADD CONSTRAINT gateway_transactions_amounts_check CHECK (gross_amount > 0 AND refund_amount >= 0);

ALTER TABLE payments.tickets
    ALTER COLUMN status TYPE text,
    ALTER COLUMN seq TYPE integer,
    ADD CONSTRAINT tickets_status_check CHECK (status IN ('active', 'void')),
    ADD CONSTRAINT tickets_seq_check CHECK (seq > 0);

ALTER TABLE payments.ticket_order_items
    ALTER COLUMN quantity TYPE integer,
    ALTER COLUMN unit_price TYPE numeric(14,2),
    ADD CONSTRAINT ticket_order_items_quantity_check CHECK (quantity >= 0),
    ADD CONSTRAINT ticket_order_items_unit_price_check CHECK (unit_price >= 0);

ALTER TABLE payments.product_order_items
    ALTER COLUMN quantity TYPE integer,
    ALTER COLUMN unit_price TYPE numeric(14,2),
    ADD CONSTRAINT product_order_items_quantity_check CHECK (quantity >= 0),
    ADD CONSTRAINT product_order_items_unit_price_check CHECK (unit_price >= 0);

ALTER TABLE payments.ticket_slots
    ALTER COLUMN code TYPE text,
    ADD CONSTRAINT ticket_slots_code_check CHECK (code <> '');

ALTER TABLE payments.product_variants
    ALTER COLUMN sku TYPE text,
    ADD CONSTRAINT product_variants_sku_check CHECK (sku <> '');

ALTER TABLE payments.webhook_logs
    ALTER COLUMN source TYPE text,
    ADD CONSTRAINT webhook_logs_source_check CHECK (source IN ('webhook', 'sync', 'reconcile', 'cron', 'manual'));

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

DROP DOMAIN payments.order_number, payments.order_kind, payments.order_status, payments.currency_code,
    payments.positive_amount, payments.nonnegative_amount, payments.positive_integer, payments.item_quantity, payments.catalog_code,
    payments.ledger_stage, payments.ticket_status, payments.log_source;
