-- payments_private.apply_product_payment(o)
-- Goods out for a paid product order (the caller holds the order row lock): a
-- pickup code only when missing (unique, unambiguous alphabet, CSPRNG) and
-- stock confirmed (reserved -> sold) for the missing quantity only. After a
-- release (a late payment) the stock comes from free stock under the variant
-- locks, or shortfall_at is set and nothing is confirmed (never oversells).
-- The order's own rows are written before the shared variant rows are
-- locked; the caller passes the order with its new status (settle).
DROP FUNCTION IF EXISTS payments.apply_product_payment(text);
CREATE OR REPLACE FUNCTION payments_private.apply_product_payment(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_reacquire boolean;
    v_shortfall jsonb;
    v_confirmed integer := 0;
    v_code text := NULL;
BEGIN
    IF o.kind <> 'product' THEN
        RAISE EXCEPTION 'order % is a % order, not a product order', o.order_number, o.kind USING ERRCODE = 'PM010';
    END IF;
    IF o.status <> 'paid' THEN
        RAISE EXCEPTION 'order % is %, not paid', o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    -- stock was handed back (released, then paid late): the missing quantity
    -- must come from free stock, checked under the variant locks first
    v_reacquire := o.stock_released_at IS NOT NULL;
    IF v_reacquire THEN
        PERFORM payments_private.lock_variants(o.id);
        SELECT jsonb_agg(jsonb_build_object('sku', v.sku, 'missing', i.quantity - i.finalized_quantity,
                                            'free', v.stock - v.reserved_stock - v.sold) ORDER BY v.id)
          INTO v_shortfall
          FROM payments.product_order_items AS i
          JOIN payments.product_variants AS v ON v.id = i.variant_id
         WHERE i.order_id = o.id
           AND i.quantity - i.finalized_quantity > v.stock - v.reserved_stock - v.sold;
        IF v_shortfall IS NOT NULL THEN
            UPDATE payments.orders SET shortfall_at = coalesce(shortfall_at, payments_private.clock()), status = o.status,
                   paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at, updated_at = payments_private.clock()
             WHERE id = o.id AND shortfall_at IS NULL;
            RETURN jsonb_build_object('effect', 'review', 'shortfall', true, 'missing', v_shortfall);
        END IF;
    END IF;

    -- the order's own rows first (pickup code, markers), the shared variant
    -- rows last: a popular variant is held only for its counter update
    IF o.pickup_code IS NULL THEN
        v_code := payments_private.new_pickup_code(o.id);
    END IF;
    SELECT count(*) INTO v_confirmed
      FROM payments.product_order_items AS i WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity;

    IF v_confirmed > 0 OR v_code IS NOT NULL OR o.stock_confirmed_at IS NULL OR v_reacquire
       OR o.shortfall_at IS NOT NULL THEN
        UPDATE payments.orders
           SET stock_confirmed_at = CASE WHEN v_confirmed > 0 OR stock_confirmed_at IS NULL
                                         THEN payments_private.clock() ELSE stock_confirmed_at END,
               stock_released_at = NULL,
               shortfall_at = NULL,
               status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at,
               updated_at = payments_private.clock()
         WHERE id = o.id;
    END IF;

    -- confirm the missing quantity: reserved -> sold, or free -> sold on
    -- re-acquire (variants locked in id order)
    IF v_confirmed > 0 THEN
        IF NOT v_reacquire THEN
            PERFORM payments_private.lock_variants(o.id);
        END IF;
        UPDATE payments.product_variants AS v
           SET reserved_stock = v.reserved_stock - CASE WHEN v_reacquire THEN 0 ELSE m.missing END,
               sold = v.sold + m.missing,
               updated_at = payments_private.clock()
          FROM (SELECT i.variant_id, sum(i.quantity - i.finalized_quantity)::integer AS missing
                  FROM payments.product_order_items AS i
                 WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity
                 GROUP BY i.variant_id) AS m
         WHERE v.id = m.variant_id;
        UPDATE payments.product_order_items AS i
           SET finalized_quantity = i.quantity
         WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity;
    END IF;

    RETURN jsonb_build_object(
        'effect', CASE WHEN v_confirmed > 0 OR v_code IS NOT NULL THEN 'stock_confirmed' ELSE 'none' END,
        'items_confirmed', v_confirmed,
        'pickup_code_issued', v_code IS NOT NULL,
        'reacquired', v_reacquire);
END
$$;

COMMENT ON FUNCTION payments_private.apply_product_payment(payments.orders) IS
    'Goods out for a paid product order: pickup code when missing, confirm missing stock (idempotent); PM010, PM011';

-- payments_private.new_pickup_code(order_id)
-- Gives the (locked) order a fresh unique pickup code XXXX-XXXX; retries on the
-- rare collision with another order's code.
DROP FUNCTION IF EXISTS payments.new_pickup_code(bigint);
CREATE OR REPLACE FUNCTION payments_private.new_pickup_code(order_id bigint)
RETURNS text
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_raw text;
    v_code text;
BEGIN
    FOR attempt IN 1 .. 10 LOOP
        v_raw := payments_private.random_code(8);
        v_code := substr(v_raw, 1, 4) || '-' || substr(v_raw, 5, 4);
        BEGIN
            UPDATE payments.orders SET pickup_code = v_code, updated_at = payments_private.clock()
             WHERE id = new_pickup_code.order_id;
            RETURN v_code;
        EXCEPTION WHEN unique_violation THEN
            -- another order holds this code; draw again
        END;
    END LOOP;
    RAISE EXCEPTION 'could not draw a unique pickup code in 10 attempts' USING ERRCODE = 'PM013';
END
$$;

COMMENT ON FUNCTION payments_private.new_pickup_code(bigint) IS
    'Sets a unique 8-character pickup code (XXXX-XXXX) on an order; PM013 after 10 collisions';
