-- payments_private.release_ticket_capacity(o)
-- Goods released for a failed / expired / refunded ticket order (the caller
-- holds the order row lock): hands back everything the order holds (reserved
-- and, after a reversal or refund, sold capacity), voids its tickets, sets
-- capacity_released_at. Once only.
DROP FUNCTION IF EXISTS payments.release_ticket_capacity(text);
CREATE OR REPLACE FUNCTION payments_private.release_ticket_capacity(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_released integer := 0;
    v_returned integer := 0;
    v_voided integer := 0;
BEGIN
    IF o.kind <> 'ticket' THEN
        RAISE EXCEPTION 'order % is a % order, not a ticket order', o.order_number, o.kind USING ERRCODE = 'PM010';
    END IF;
    IF o.status NOT IN ('failed', 'expired', 'refunded') THEN
        RAISE EXCEPTION 'order % is %; only failed, expired or refunded orders release capacity',
            o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    IF o.capacity_released_at IS NOT NULL THEN
        RETURN jsonb_build_object('effect', 'none');
    END IF;

    PERFORM payments_private.lock_slots(o.id);

    SELECT coalesce(sum(i.quantity - i.finalized_quantity), 0), coalesce(sum(i.finalized_quantity), 0)
      INTO v_released, v_returned
      FROM payments.ticket_order_items AS i WHERE i.order_id = o.id;

    UPDATE payments.ticket_slots AS s
       SET reserved = s.reserved - (i.quantity - i.finalized_quantity),
           sold = s.sold - i.finalized_quantity,
           updated_at = payments_private.clock()
      FROM payments.ticket_order_items AS i
     WHERE i.order_id = o.id AND s.id = i.slot_id;
    UPDATE payments.ticket_order_items AS i
       SET finalized_quantity = 0
     WHERE i.order_id = o.id AND i.finalized_quantity <> 0;
    UPDATE payments.tickets AS t
       SET status = 'void', voided_at = payments_private.clock()
      FROM payments.ticket_order_items AS i
     WHERE i.order_id = o.id AND t.order_item_id = i.id AND t.status = 'active';
    GET DIAGNOSTICS v_voided = ROW_COUNT;
    UPDATE payments.orders SET capacity_released_at = payments_private.clock(), shortfall_at = NULL,
           status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at, updated_at = payments_private.clock()
     WHERE id = o.id;

    RETURN jsonb_build_object('effect', 'capacity_released', 'reserved_released', v_released,
                              'sold_returned', v_returned, 'tickets_voided', v_voided);
END
$$;

COMMENT ON FUNCTION payments_private.release_ticket_capacity(payments.orders) IS
    'Goods released for a failed/expired/refunded ticket order: return held capacity, void tickets, once; PM010, PM011';
