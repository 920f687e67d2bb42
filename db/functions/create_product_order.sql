-- payments.create_product_order(order_number, items, expires_at, gross_amount, currency)
-- Creates a pending product order and reserves stock, locking variants in id
-- order; raises PM004 when a variant cannot cover the quantity (never oversells).
CREATE OR REPLACE FUNCTION payments.create_product_order(
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
    v_variant_ids bigint[];
    v_quantities integer[];
    v_prices numeric[];
    v_total numeric;
    v_priced integer;
    v_free integer;
BEGIN
    PERFORM payments_private.validate_order_header(create_product_order.order_number,
        create_product_order.expires_at, create_product_order.gross_amount,
        create_product_order.currency);

    SELECT array_agg(coalesce(s.id, -1) ORDER BY s.id), array_agg(p.quantity ORDER BY s.id),
           array_agg(p.unit_price ORDER BY s.id),
           sum(p.quantity * p.unit_price), count(p.unit_price)
      INTO v_variant_ids, v_quantities, v_prices, v_total, v_priced
      FROM payments_private.parse_order_items(create_product_order.items, 'sku', 'variant_id') AS p
      LEFT JOIN payments.product_variants AS s
             ON s.sku = p.ref_code OR s.id = p.ref_id;

    IF -1 = ANY (v_variant_ids) THEN
        RAISE EXCEPTION 'unknown product variant in items %', left(create_product_order.items::text, 200)
            USING ERRCODE = 'PM006';
    END IF;
    IF cardinality(v_variant_ids) <> (SELECT count(DISTINCT x) FROM unnest(v_variant_ids) AS x) THEN
        RAISE EXCEPTION 'a variant appears more than once in items' USING ERRCODE = 'PM008';
    END IF;
    PERFORM payments_private.check_items_total(create_product_order.gross_amount, v_total, v_priced,
                                       cardinality(v_variant_ids));

    -- orders first (the unique index serialises duplicates), then variants by id
    INSERT INTO payments.orders (order_number, kind, gross_amount, currency, expires_at)
    VALUES (create_product_order.order_number, 'product', create_product_order.gross_amount,
            create_product_order.currency, create_product_order.expires_at)
    ON CONFLICT (order_number) DO NOTHING
    RETURNING id INTO v_order_id;
    IF v_order_id IS NULL THEN
        RAISE EXCEPTION 'order % already exists', create_product_order.order_number
            USING ERRCODE = 'PM002';
    END IF;

    FOR i IN 1 .. cardinality(v_variant_ids) LOOP
        UPDATE payments.product_variants AS s
           SET reserved_stock = s.reserved_stock + v_quantities[i], updated_at = payments_private.clock()
         WHERE s.id = v_variant_ids[i]
           AND s.stock - s.reserved_stock - s.sold >= v_quantities[i];
        IF NOT FOUND THEN
            SELECT s.stock - s.reserved_stock - s.sold INTO v_free
              FROM payments.product_variants AS s WHERE s.id = v_variant_ids[i];
            RAISE EXCEPTION 'insufficient stock of %: % requested, % free',
                (SELECT s.sku FROM payments.product_variants AS s WHERE s.id = v_variant_ids[i]),
                v_quantities[i], v_free
                USING ERRCODE = 'PM004';
        END IF;
    END LOOP;
    INSERT INTO payments.product_order_items (order_id, variant_id, quantity, unit_price)
    SELECT v_order_id, x.variant_id, x.quantity, x.unit_price
      FROM unnest(v_variant_ids, v_quantities, v_prices) AS x (variant_id, quantity, unit_price);

    RETURN jsonb_build_object(
        'order_id', v_order_id,
        'order_number', create_product_order.order_number,
        'kind', 'product',
        'status', 'pending',
        'gross_amount', create_product_order.gross_amount,
        'expires_at', create_product_order.expires_at);
END
$$;

COMMENT ON FUNCTION payments.create_product_order(text, jsonb, timestamptz, numeric, text) IS
    'Creates a pending product order holding stock; PM002 duplicate, PM004 no stock, PM006 unknown variant, PM007 bad quantity, PM008 bad items, PM009 bad argument';
