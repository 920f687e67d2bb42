-- The product's clock: every function, column default and view of the
-- payments schema reads the time from payments_private.clock() (transaction
-- time) or payments_private.wall_clock() (the time of the statement's call),
-- which are now() / clock_timestamp() plus an offset that only moves forward.
-- The offset is 0 in production. Tests and the demo move it with
-- payments.advance_clock(interval) (granted to no role: the schema owner and
-- superusers only) instead of waiting or rewriting expires_at, and the
-- timelines stay coherent (expires_at, created_at, log and run times all move
-- together). See docs/ARCHITECTURE.md ("The clock").
--
-- The offset lives in payments.clock (one row, the record) and, as a
-- constant, in the body of payments_private.clock_offset(), which
-- advance_clock rewrites. clock_offset() and clock() are STABLE one-line SQL
-- functions without SET clauses, so the planner inlines them: clock() costs
-- now() + a constant, no table read, on every path (the settlement hot path
-- included). Redefining clock_offset() invalidates the cached plans that
-- inlined it, in every session. These functions live here, not in
-- db/functions, because column defaults depend on them and `payments migrate`
-- must never reset the offset.
--
-- The catalog: ticket slots and product variants are created and their
-- capacity / stock changed only through payments.create_ticket_slot,
-- create_product_variant, change_capacity and change_stock (operators and
-- the owner), each change logged in payments.catalog_changes with who made
-- it. See docs/SQL_API.md ("Catalog").
-- depends: 0005.leases

CREATE TABLE payments.clock (
    one       boolean     PRIMARY KEY DEFAULT true CHECK (one),
    ahead_by  interval    NOT NULL DEFAULT interval '0' CHECK (ahead_by >= interval '0'),
    moved_at  timestamptz,
    moved_by  text,
    CHECK ((moved_at IS NULL) = (moved_by IS NULL))
);
INSERT INTO payments.clock DEFAULT VALUES;
COMMENT ON TABLE payments.clock IS
    'How far the product''s clock is ahead of the server''s (0 in production); moved only by payments.advance_clock';

CREATE FUNCTION payments_private.clock_offset()
RETURNS interval
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$ SELECT interval '0' $$;
COMMENT ON FUNCTION payments_private.clock_offset() IS
    'payments.clock.ahead_by as a constant the planner inlines; rewritten only by payments.advance_clock';

CREATE FUNCTION payments_private.clock()
RETURNS timestamptz
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$ SELECT pg_catalog.now() + payments_private.clock_offset() $$;
COMMENT ON FUNCTION payments_private.clock() IS
    'The product''s now(): transaction start time plus the clock offset (inlined; equal to now() at offset 0)';

CREATE FUNCTION payments_private.wall_clock()
RETURNS timestamptz
LANGUAGE sql
VOLATILE
PARALLEL SAFE
AS $$ SELECT pg_catalog.clock_timestamp() + payments_private.clock_offset() $$;
COMMENT ON FUNCTION payments_private.wall_clock() IS
    'The product''s clock_timestamp(): the current time plus the clock offset (inlined)';

ALTER TABLE payments.ticket_slots
    ALTER COLUMN created_at SET DEFAULT payments_private.clock(),
    ALTER COLUMN updated_at SET DEFAULT payments_private.clock();
ALTER TABLE payments.product_variants
    ALTER COLUMN created_at SET DEFAULT payments_private.clock(),
    ALTER COLUMN updated_at SET DEFAULT payments_private.clock();
ALTER TABLE payments.orders
    ALTER COLUMN created_at SET DEFAULT payments_private.clock(),
    ALTER COLUMN updated_at SET DEFAULT payments_private.clock();
ALTER TABLE payments.tickets
    ALTER COLUMN issued_at SET DEFAULT payments_private.clock();
ALTER TABLE payments.gateway_transactions
    ALTER COLUMN first_seen_at SET DEFAULT payments_private.clock(),
    ALTER COLUMN updated_at SET DEFAULT payments_private.clock();
ALTER TABLE payments.runs
    ALTER COLUMN started_at SET DEFAULT payments_private.clock();
ALTER TABLE payments.webhook_logs
    ALTER COLUMN created_at SET DEFAULT payments_private.wall_clock();
ALTER TABLE payments.order_reviews
    ALTER COLUMN opened_at SET DEFAULT payments_private.clock();

-- Every catalog change, append-only: written only by the catalog functions.
CREATE TABLE payments.catalog_changes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT payments_private.clock(),
    actor        text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('slot_created', 'capacity_changed',
                                                      'variant_created', 'stock_changed')),
    resource     text        NOT NULL,   -- the slot's code / the variant's sku
    resource_id  bigint      NOT NULL,   -- ticket_slots.id / product_variants.id
    delta        integer     NOT NULL,
    before       integer     NOT NULL,
    after        integer     NOT NULL,
    note         text        CHECK (length(note) <= 2000),
    CHECK (after = before + delta AND after >= 0)
);
CREATE INDEX catalog_changes_resource_idx ON payments.catalog_changes (kind, resource_id, id);
COMMENT ON TABLE payments.catalog_changes IS
    'Who created a slot / variant or changed its capacity / stock, when, by how much (before, after)';
