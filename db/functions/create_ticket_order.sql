-- payments.create_ticket_order(order_number, items, expires_at, gross_amount, currency)
-- Creates a pending ticket order and reserves capacity, locking slots in id
-- order; raises PM003 when a slot cannot hold the quantity (never oversells).
CREATE OR REPLACE FUNCTION payments.create_ticket_order(
    order_number text,
    items jsonb,
    expires_at timestamptz,
    gross_amount numeric,
    currency text DEFAULT 'IDR'
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_order_id bigint;
    v_slot_ids bigint[];
    v_quantities integer[];
    v_prices numeric[];
    v_total numeric;
    v_priced integer;
    v_free integer;
BEGIN
    PERFORM payments_private.validate_order_header(create_ticket_order.order_number,
        create_ticket_order.expires_at, create_ticket_order.gross_amount,
        create_ticket_order.currency);

    SELECT array_agg(coalesce(s.id, -1) ORDER BY s.id), array_agg(p.quantity ORDER BY s.id),
           array_agg(p.unit_price ORDER BY s.id),
           sum(p.quantity * p.unit_price), count(p.unit_price)
      INTO v_slot_ids, v_quantities, v_prices, v_total, v_priced
      FROM payments_private.parse_order_items(create_ticket_order.items, 'slot', 'slot_id') AS p
      LEFT JOIN payments.ticket_slots AS s
             ON s.code = p.ref_code OR s.id = p.ref_id;

    IF -1 = ANY (v_slot_ids) THEN
        RAISE EXCEPTION 'unknown ticket slot in items %', left(create_ticket_order.items::text, 200)
            USING ERRCODE = 'PM005';
    END IF;
    IF cardinality(v_slot_ids) <> (SELECT count(DISTINCT x) FROM unnest(v_slot_ids) AS x) THEN
        RAISE EXCEPTION 'a slot appears more than once in items' USING ERRCODE = 'PM008';
    END IF;
    PERFORM payments_private.check_items_total(create_ticket_order.gross_amount, v_total, v_priced,
                                       cardinality(v_slot_ids));

    -- orders first (the unique index serialises duplicates), then slots by id
    INSERT INTO payments.orders (order_number, kind, gross_amount, currency, expires_at)
    VALUES (create_ticket_order.order_number, 'ticket', create_ticket_order.gross_amount,
            create_ticket_order.currency, create_ticket_order.expires_at)
    ON CONFLICT (order_number) DO NOTHING
    RETURNING id INTO v_order_id;
    IF v_order_id IS NULL THEN
        RAISE EXCEPTION 'order % already exists', create_ticket_order.order_number
            USING ERRCODE = 'PM002';
    END IF;

    FOR i IN 1 .. cardinality(v_slot_ids) LOOP
        UPDATE payments.ticket_slots AS s
           SET reserved = s.reserved + v_quantities[i], updated_at = payments_private.clock()
         WHERE s.id = v_slot_ids[i]
           AND s.capacity - s.reserved - s.sold >= v_quantities[i];
        IF NOT FOUND THEN
            SELECT s.capacity - s.reserved - s.sold INTO v_free
              FROM payments.ticket_slots AS s WHERE s.id = v_slot_ids[i];
            RAISE EXCEPTION 'insufficient capacity in slot %: % requested, % free',
                (SELECT s.code FROM payments.ticket_slots AS s WHERE s.id = v_slot_ids[i]),
                v_quantities[i], v_free
                USING ERRCODE = 'PM003';
        END IF;
    END LOOP;
    INSERT INTO payments.ticket_order_items (order_id, slot_id, quantity, unit_price)
    SELECT v_order_id, x.slot_id, x.quantity, x.unit_price
      FROM unnest(v_slot_ids, v_quantities, v_prices) AS x (slot_id, quantity, unit_price);

    RETURN jsonb_build_object(
        'order_id', v_order_id,
        'order_number', create_ticket_order.order_number,
        'kind', 'ticket',
        'status', 'pending',
        'gross_amount', create_ticket_order.gross_amount,
        'expires_at', create_ticket_order.expires_at);
END
$$;

COMMENT ON FUNCTION payments.create_ticket_order(text, jsonb, timestamptz, numeric, text) IS
    'Creates a pending ticket order holding capacity; PM002 duplicate, PM003 no capacity, PM005 unknown slot, PM007 bad quantity, PM008 bad items, PM009 bad argument';
