-- payments.release_product_stock(order_number)
-- Side-effect of a failed / expired / refunded product order (DESIGN §6):
-- hands back reserved (and, after a reversal or refund, sold) stock once,
-- guarded by stock_released_at. A pickup code issued for the voided payment
-- is withdrawn (kept in the effect, hence in webhook_logs) so it cannot be
-- redeemed; a later payment gets a new one.
CREATE OR REPLACE FUNCTION payments.release_product_stock(order_number text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v_released integer := 0;
    v_returned integer := 0;
BEGIN
    o := payments.lock_order(release_product_stock.order_number, 'product');
    IF o.status NOT IN ('failed', 'expired', 'refunded') THEN
        RAISE EXCEPTION 'order % is %; only failed, expired or refunded orders release stock',
            o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    IF o.stock_released_at IS NOT NULL THEN
        RETURN jsonb_build_object('effect', 'none');
    END IF;

    PERFORM 1 FROM payments.product_variants AS v
     WHERE v.id IN (SELECT i.variant_id FROM payments.product_order_items AS i WHERE i.order_id = o.id)
     ORDER BY v.id
       FOR UPDATE OF v;

    SELECT coalesce(sum(i.quantity - i.finalized_quantity), 0), coalesce(sum(i.finalized_quantity), 0)
      INTO v_released, v_returned
      FROM payments.product_order_items AS i WHERE i.order_id = o.id;

    UPDATE payments.product_variants AS v
       SET reserved_stock = v.reserved_stock - (i.quantity - i.finalized_quantity),
           sold = v.sold - i.finalized_quantity,
           updated_at = now()
      FROM payments.product_order_items AS i
     WHERE i.order_id = o.id AND v.id = i.variant_id;
    UPDATE payments.product_order_items AS i
       SET finalized_quantity = 0
     WHERE i.order_id = o.id AND i.finalized_quantity <> 0;
    UPDATE payments.orders
       SET stock_released_at = now(), stock_confirmed_at = NULL, pickup_code = NULL, updated_at = now()
     WHERE id = o.id;

    RETURN jsonb_build_object('effect', 'stock_released', 'reserved_released', v_released,
                              'sold_returned', v_returned, 'pickup_code_voided', o.pickup_code);
END
$$;

COMMENT ON FUNCTION payments.release_product_stock(text) IS
    'Failed/expired/refunded product order: return held stock once; PM001, PM010, PM011';
