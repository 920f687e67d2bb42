-- payments_private.release_product_stock(o)
-- Goods released for a failed / expired / refunded product order (the caller
-- holds the order row lock): hands back reserved (and, after a reversal or
-- refund, sold) stock once, guarded by stock_released_at. A pickup code issued
-- for the voided payment is withdrawn so it cannot be redeemed (the log says
-- that it was, never the code); a later payment gets a new one.
DROP FUNCTION IF EXISTS payments.release_product_stock(text);
CREATE OR REPLACE FUNCTION payments_private.release_product_stock(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_released integer := 0;
    v_returned integer := 0;
BEGIN
    IF o.kind <> 'product' THEN
        RAISE EXCEPTION 'order % is a % order, not a product order', o.order_number, o.kind USING ERRCODE = 'PM010';
    END IF;
    IF o.status NOT IN ('failed', 'expired', 'refunded') THEN
        RAISE EXCEPTION 'order % is %; only failed, expired or refunded orders release stock',
            o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    IF o.stock_released_at IS NOT NULL THEN
        RETURN jsonb_build_object('effect', 'none');
    END IF;

    PERFORM payments_private.lock_variants(o.id);

    SELECT coalesce(sum(i.quantity - i.finalized_quantity), 0), coalesce(sum(i.finalized_quantity), 0)
      INTO v_released, v_returned
      FROM payments.product_order_items AS i WHERE i.order_id = o.id;

    UPDATE payments.product_variants AS v
       SET reserved_stock = v.reserved_stock - (i.quantity - i.finalized_quantity),
           sold = v.sold - i.finalized_quantity,
           updated_at = payments_private.clock()
      FROM payments.product_order_items AS i
     WHERE i.order_id = o.id AND v.id = i.variant_id;
    UPDATE payments.product_order_items AS i
       SET finalized_quantity = 0
     WHERE i.order_id = o.id AND i.finalized_quantity <> 0;
    UPDATE payments.orders
       SET stock_released_at = payments_private.clock(), stock_confirmed_at = NULL, pickup_code = NULL, shortfall_at = NULL,
           status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at, updated_at = payments_private.clock()
     WHERE id = o.id;

    RETURN jsonb_build_object('effect', 'stock_released', 'reserved_released', v_released,
                              'sold_returned', v_returned, 'pickup_code_voided', o.pickup_code IS NOT NULL);
END
$$;

COMMENT ON FUNCTION payments_private.release_product_stock(payments.orders) IS
    'Goods released for a failed/expired/refunded product order: return held stock once; PM010, PM011';
