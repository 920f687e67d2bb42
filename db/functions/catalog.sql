-- The catalog: ticket slots and product variants, created and resized only
-- through these functions (payments_operator and the owner; not the runner).
-- Each call logs one row in payments.catalog_changes with session_user as
-- its actor. A change locks the slot / variant row (FOR UPDATE) first, so
-- it queues behind, and is checked against, orders reserving at the same
-- time: capacity / stock never goes below reserved + sold (PM019).
-- PM017 bad argument, PM018 code / sku taken, PM005 / PM006 unknown slot /
-- variant (as for orders).

-- payments_private.require_catalog_key(value, what)
CREATE OR REPLACE FUNCTION payments_private.require_catalog_key(value text, what text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF require_catalog_key.value IS NULL OR require_catalog_key.value = ''
       OR require_catalog_key.value <> btrim(require_catalog_key.value)
       OR length(require_catalog_key.value) > 100 THEN
        RAISE EXCEPTION '% must be 1 to 100 characters without surrounding spaces, got %',
            require_catalog_key.what, quote_nullable(left(require_catalog_key.value, 120))
            USING ERRCODE = 'PM017';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.require_catalog_key(text, text) IS
    'Raises PM017 unless a slot code / sku is 1 to 100 characters without surrounding spaces';

-- payments_private.require_catalog_amount(value, what)
CREATE OR REPLACE FUNCTION payments_private.require_catalog_amount(value integer, what text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF require_catalog_amount.value IS NULL OR require_catalog_amount.value < 0 THEN
        RAISE EXCEPTION '% must be an integer >= 0, got %', require_catalog_amount.what,
            quote_nullable(require_catalog_amount.value) USING ERRCODE = 'PM017';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.require_catalog_amount(integer, text) IS
    'Raises PM017 unless a capacity / stock is an integer >= 0';

-- payments_private.require_catalog_note(note)
CREATE OR REPLACE FUNCTION payments_private.require_catalog_note(note text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF length(require_catalog_note.note) > 2000 THEN
        RAISE EXCEPTION 'note must be at most 2000 characters' USING ERRCODE = 'PM017';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.require_catalog_note(text) IS
    'Raises PM017 for a catalog note over 2000 characters';

-- payments.create_ticket_slot(code, capacity, starts_at, note)
-- A new ticket slot with `capacity` seats (>= 0), nothing reserved or sold.
-- PM017 bad code / capacity / note, PM018 the code exists.
CREATE OR REPLACE FUNCTION payments.create_ticket_slot(
    code text,
    capacity integer,
    starts_at timestamptz DEFAULT NULL,
    note text DEFAULT NULL
)
RETURNS payments.ticket_slots
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    s payments.ticket_slots;
BEGIN
    PERFORM payments_private.require_catalog_key(create_ticket_slot.code, 'slot code');
    PERFORM payments_private.require_catalog_amount(create_ticket_slot.capacity, 'capacity');
    PERFORM payments_private.require_catalog_note(create_ticket_slot.note);
    INSERT INTO payments.ticket_slots AS x (code, capacity, starts_at)
    VALUES (create_ticket_slot.code, create_ticket_slot.capacity, create_ticket_slot.starts_at)
    ON CONFLICT (code) DO NOTHING
    RETURNING x.* INTO s;
    IF s.id IS NULL THEN
        RAISE EXCEPTION 'ticket slot % already exists', create_ticket_slot.code USING ERRCODE = 'PM018';
    END IF;
    INSERT INTO payments.catalog_changes (actor, kind, resource, resource_id, delta, before, after, note)
    VALUES (session_user, 'slot_created', s.code, s.id, s.capacity, 0, s.capacity, create_ticket_slot.note);
    RETURN s;
END
$$;

COMMENT ON FUNCTION payments.create_ticket_slot(text, integer, timestamptz, text) IS
    'Creates a ticket slot (logged in catalog_changes); PM017 bad argument, PM018 code exists';

-- payments.create_product_variant(sku, stock, name, note)
-- A new product variant with `stock` units for sale (>= 0).
-- PM017 bad sku / stock / name / note, PM018 the sku exists.
CREATE OR REPLACE FUNCTION payments.create_product_variant(
    sku text,
    stock integer,
    name text DEFAULT NULL,
    note text DEFAULT NULL
)
RETURNS payments.product_variants
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v payments.product_variants;
BEGIN
    PERFORM payments_private.require_catalog_key(create_product_variant.sku, 'sku');
    PERFORM payments_private.require_catalog_amount(create_product_variant.stock, 'stock');
    PERFORM payments_private.require_catalog_note(create_product_variant.note);
    IF length(create_product_variant.name) > 200 THEN
        RAISE EXCEPTION 'name must be at most 200 characters' USING ERRCODE = 'PM017';
    END IF;
    INSERT INTO payments.product_variants AS x (sku, name, stock)
    VALUES (create_product_variant.sku, create_product_variant.name, create_product_variant.stock)
    ON CONFLICT (sku) DO NOTHING
    RETURNING x.* INTO v;
    IF v.id IS NULL THEN
        RAISE EXCEPTION 'product variant % already exists', create_product_variant.sku USING ERRCODE = 'PM018';
    END IF;
    INSERT INTO payments.catalog_changes (actor, kind, resource, resource_id, delta, before, after, note)
    VALUES (session_user, 'variant_created', v.sku, v.id, v.stock, 0, v.stock, create_product_variant.note);
    RETURN v;
END
$$;

COMMENT ON FUNCTION payments.create_product_variant(text, integer, text, text) IS
    'Creates a product variant (logged in catalog_changes); PM017 bad argument, PM018 sku exists';

-- payments.change_capacity(code, delta, note)
-- Adds `delta` (a non-zero integer; negative takes seats away) to a slot's
-- capacity. The slot row is locked first; PM019 when the new capacity would
-- be below reserved + sold (nothing changes), PM005 unknown slot, PM017 bad
-- argument (NULL or zero delta, a capacity beyond 2147483647).
CREATE OR REPLACE FUNCTION payments.change_capacity(code text, delta integer, note text DEFAULT NULL)
RETURNS payments.ticket_slots
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    s payments.ticket_slots;
    v_before integer;
BEGIN
    PERFORM payments_private.require_catalog_key(change_capacity.code, 'slot code');
    PERFORM payments_private.require_catalog_note(change_capacity.note);
    IF change_capacity.delta IS NULL OR change_capacity.delta = 0 THEN
        RAISE EXCEPTION 'delta must be a non-zero integer, got %', quote_nullable(change_capacity.delta)
            USING ERRCODE = 'PM017';
    END IF;
    SELECT * INTO s FROM payments.ticket_slots AS x WHERE x.code = change_capacity.code FOR UPDATE;
    IF s.id IS NULL THEN
        RAISE EXCEPTION 'unknown ticket slot %', change_capacity.code USING ERRCODE = 'PM005';
    END IF;
    IF s.capacity::bigint + change_capacity.delta > 2147483647 THEN
        RAISE EXCEPTION 'capacity of slot % would exceed 2147483647', s.code USING ERRCODE = 'PM017';
    END IF;
    IF s.capacity + change_capacity.delta < s.reserved + s.sold THEN
        RAISE EXCEPTION 'capacity of slot % cannot go below reserved + sold: % + % = %, capacity %, delta %',
            s.code, s.reserved, s.sold, s.reserved + s.sold, s.capacity, change_capacity.delta
            USING ERRCODE = 'PM019';
    END IF;
    v_before := s.capacity;
    UPDATE payments.ticket_slots AS x
       SET capacity = x.capacity + change_capacity.delta, updated_at = payments_private.clock()
     WHERE x.id = s.id
    RETURNING x.* INTO s;
    INSERT INTO payments.catalog_changes (actor, kind, resource, resource_id, delta, before, after, note)
    VALUES (session_user, 'capacity_changed', s.code, s.id, change_capacity.delta, v_before, s.capacity,
            change_capacity.note);
    RETURN s;
END
$$;

COMMENT ON FUNCTION payments.change_capacity(text, integer, text) IS
    'Adds a signed delta to a slot''s capacity (logged); PM019 below reserved + sold, PM005 unknown slot, PM017 bad argument';

-- payments.change_stock(sku, delta, note)
-- Adds `delta` (a non-zero integer) to a variant's stock, like
-- change_capacity: PM019 below reserved_stock + sold, PM006 unknown
-- variant, PM017 bad argument.
CREATE OR REPLACE FUNCTION payments.change_stock(sku text, delta integer, note text DEFAULT NULL)
RETURNS payments.product_variants
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v payments.product_variants;
    v_before integer;
BEGIN
    PERFORM payments_private.require_catalog_key(change_stock.sku, 'sku');
    PERFORM payments_private.require_catalog_note(change_stock.note);
    IF change_stock.delta IS NULL OR change_stock.delta = 0 THEN
        RAISE EXCEPTION 'delta must be a non-zero integer, got %', quote_nullable(change_stock.delta)
            USING ERRCODE = 'PM017';
    END IF;
    SELECT * INTO v FROM payments.product_variants AS x WHERE x.sku = change_stock.sku FOR UPDATE;
    IF v.id IS NULL THEN
        RAISE EXCEPTION 'unknown product variant %', change_stock.sku USING ERRCODE = 'PM006';
    END IF;
    IF v.stock::bigint + change_stock.delta > 2147483647 THEN
        RAISE EXCEPTION 'stock of variant % would exceed 2147483647', v.sku USING ERRCODE = 'PM017';
    END IF;
    IF v.stock + change_stock.delta < v.reserved_stock + v.sold THEN
        RAISE EXCEPTION 'stock of variant % cannot go below reserved_stock + sold: % + % = %, stock %, delta %',
            v.sku, v.reserved_stock, v.sold, v.reserved_stock + v.sold, v.stock, change_stock.delta
            USING ERRCODE = 'PM019';
    END IF;
    v_before := v.stock;
    UPDATE payments.product_variants AS x
       SET stock = x.stock + change_stock.delta, updated_at = payments_private.clock()
     WHERE x.id = v.id
    RETURNING x.* INTO v;
    INSERT INTO payments.catalog_changes (actor, kind, resource, resource_id, delta, before, after, note)
    VALUES (session_user, 'stock_changed', v.sku, v.id, change_stock.delta, v_before, v.stock, change_stock.note);
    RETURN v;
END
$$;

COMMENT ON FUNCTION payments.change_stock(text, integer, text) IS
    'Adds a signed delta to a variant''s stock (logged); PM019 below reserved_stock + sold, PM006 unknown variant, PM017 bad argument';
