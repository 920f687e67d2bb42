-- payments.apply_product_payment(order_number)
-- Side-effect of a paid product order (DESIGN §6): a pickup code only when
-- missing (unique, unambiguous alphabet, CSPRNG) and stock confirmed (reserved
-- -> sold) for the missing quantity only. A late payment after release
-- re-acquires stock under lock or flags paid_after_release (never oversells).
CREATE OR REPLACE FUNCTION payments.apply_product_payment(order_number text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v_reacquire boolean;
    v_shortfall jsonb;
    v_confirmed integer := 0;
    v_code text := NULL;
BEGIN
    o := payments.lock_order(apply_product_payment.order_number, 'product');
    IF o.status <> 'paid' THEN
        RAISE EXCEPTION 'order % is %, not paid', o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    v_reacquire := o.stock_released_at IS NOT NULL;

    PERFORM 1 FROM payments.product_variants AS v
     WHERE v.id IN (SELECT i.variant_id FROM payments.product_order_items AS i WHERE i.order_id = o.id)
     ORDER BY v.id
       FOR UPDATE OF v;

    IF v_reacquire THEN
        SELECT jsonb_agg(jsonb_build_object('sku', v.sku, 'missing', i.quantity - i.finalized_quantity,
                                            'free', v.stock - v.reserved_stock - v.sold) ORDER BY v.id)
          INTO v_shortfall
          FROM payments.product_order_items AS i
          JOIN payments.product_variants AS v ON v.id = i.variant_id
         WHERE i.order_id = o.id
           AND i.quantity - i.finalized_quantity > v.stock - v.reserved_stock - v.sold;
        IF v_shortfall IS NOT NULL THEN
            UPDATE payments.orders
               SET needs_review = true, review_reason = 'paid_after_release', updated_at = now()
             WHERE id = o.id AND review_reason IS DISTINCT FROM 'paid_after_release';
            RETURN jsonb_build_object('effect', 'review', 'review_reason', 'paid_after_release',
                                      'shortfall', v_shortfall);
        END IF;
    END IF;

    UPDATE payments.product_variants AS v
       SET reserved_stock = v.reserved_stock - CASE WHEN v_reacquire THEN 0 ELSE m.missing END,
           sold = v.sold + m.missing,
           updated_at = now()
      FROM (SELECT i.variant_id, i.quantity - i.finalized_quantity AS missing
              FROM payments.product_order_items AS i
             WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity) AS m
     WHERE v.id = m.variant_id;
    UPDATE payments.product_order_items AS i
       SET finalized_quantity = i.quantity
     WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity;
    GET DIAGNOSTICS v_confirmed = ROW_COUNT;

    IF o.pickup_code IS NULL THEN
        v_code := payments.new_pickup_code(o.id);
    END IF;

    IF v_confirmed > 0 OR v_code IS NOT NULL OR o.stock_confirmed_at IS NULL OR v_reacquire
       OR o.review_reason = 'paid_after_release' THEN
        UPDATE payments.orders
           SET stock_confirmed_at = CASE WHEN v_confirmed > 0 OR stock_confirmed_at IS NULL
                                         THEN now() ELSE stock_confirmed_at END,
               stock_released_at = NULL,
               needs_review = needs_review AND review_reason IS DISTINCT FROM 'paid_after_release',
               review_reason = CASE WHEN review_reason = 'paid_after_release' THEN NULL
                                    ELSE review_reason END,
               updated_at = now()
         WHERE id = o.id;
    END IF;

    RETURN jsonb_build_object(
        'effect', CASE WHEN v_confirmed > 0 OR v_code IS NOT NULL THEN 'stock_confirmed' ELSE 'none' END,
        'items_confirmed', v_confirmed,
        'pickup_code_issued', v_code IS NOT NULL,
        'reacquired', v_reacquire);
END
$$;

COMMENT ON FUNCTION payments.apply_product_payment(text) IS
    'Paid product order: pickup code when missing, confirm missing stock (idempotent); PM001, PM010, PM011';

-- payments.new_pickup_code(order_id)
-- Gives the (locked) order a fresh unique pickup code XXXX-XXXX; retries on the
-- rare collision with another order's code.
CREATE OR REPLACE FUNCTION payments.new_pickup_code(order_id bigint)
RETURNS text
LANGUAGE plpgsql
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_raw text;
    v_code text;
BEGIN
    FOR attempt IN 1 .. 10 LOOP
        v_raw := payments.random_code(8);
        v_code := substr(v_raw, 1, 4) || '-' || substr(v_raw, 5, 4);
        BEGIN
            UPDATE payments.orders SET pickup_code = v_code, updated_at = now()
             WHERE id = new_pickup_code.order_id;
            RETURN v_code;
        EXCEPTION WHEN unique_violation THEN
            -- another order holds this code; draw again
        END;
    END LOOP;
    RAISE EXCEPTION 'could not draw a unique pickup code in 10 attempts' USING ERRCODE = 'PM013';
END
$$;

COMMENT ON FUNCTION payments.new_pickup_code(bigint) IS
    'Sets a unique 8-character pickup code (XXXX-XXXX) on an order; PM013 after 10 collisions';
