-- Goods follow the order's status, through one dispatcher per effect:
--   paid     goods out       apply_ticket_payment   / apply_product_payment
--   pending  goods held      hold_ticket_capacity   / hold_product_stock
--   failed, expired, refunded
--            goods released  release_ticket_capacity / release_product_stock
-- Each dispatcher raises on an order kind it does not know (PM010), so a new
-- kind can never fall silently into another kind's branch. Each effect gets
-- the order with its new status (payments_private.settle) and, whenever it
-- reports an effect other than 'none' / 'review', has written that status
-- together with its markers (one row version per settlement).
--
-- Lock order, everywhere: the order row (payments_private.lock_order) first,
-- then its slots / variants in id order (lock_slots / lock_variants). A
-- caller holds at most one order's locks at a time (reconciliation commits
-- after each order), so two callers can never wait on each other in a cycle.

-- payments_private.lock_slots(order_id) / lock_variants(order_id)
-- lock_slots returns how many slots it locked, so the settlement path calls
-- it in an assignment (a simple expression) rather than a PERFORM.
DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments_private.lock_slots(bigint)')) <> 'integer' THEN
        DROP FUNCTION payments_private.lock_slots(bigint);
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION payments_private.lock_slots(order_id bigint)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_locked integer;
BEGIN
    SELECT count(*) INTO v_locked
      FROM (SELECT 1 FROM payments.ticket_slots AS s
             WHERE s.id IN (SELECT i.slot_id FROM payments.ticket_order_items AS i
                             WHERE i.order_id = lock_slots.order_id)
             ORDER BY s.id
               FOR UPDATE OF s) AS locked;
    RETURN v_locked;
END
$$;

COMMENT ON FUNCTION payments_private.lock_slots(bigint) IS 'Locks the slots of an order, in id order; returns how many';

CREATE OR REPLACE FUNCTION payments_private.lock_variants(order_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM 1 FROM payments.product_variants AS v
     WHERE v.id IN (SELECT i.variant_id FROM payments.product_order_items AS i
                     WHERE i.order_id = lock_variants.order_id)
     ORDER BY v.id
       FOR UPDATE OF v;
END
$$;

COMMENT ON FUNCTION payments_private.lock_variants(bigint) IS 'Locks the variants of an order, in id order';

-- payments_private.hold_ticket_capacity(o)
-- Goods held for a pending ticket order: a payment that covered it was
-- reversed while its payment window is open, so the customer may pay again.
-- Active tickets are voided and sold capacity goes back to the order's
-- reservation (sold -> reserved); nothing when nothing is out.
CREATE OR REPLACE FUNCTION payments_private.hold_ticket_capacity(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_held integer := 0;
    v_voided integer := 0;
BEGIN
    IF o.kind <> 'ticket' THEN
        RAISE EXCEPTION 'order % is a % order, not a ticket order', o.order_number, o.kind USING ERRCODE = 'PM010';
    END IF;
    IF o.status <> 'pending' OR o.capacity_released_at IS NOT NULL THEN
        RAISE EXCEPTION 'order % is % (released: %); only a pending order holding its reservation is held',
            o.order_number, o.status, o.capacity_released_at IS NOT NULL USING ERRCODE = 'PM011';
    END IF;
    IF o.tickets_issued_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0) THEN
        RETURN jsonb_build_object('effect', 'none');
    END IF;
    PERFORM payments_private.lock_slots(o.id);
    SELECT coalesce(sum(i.finalized_quantity), 0) INTO v_held
      FROM payments.ticket_order_items AS i WHERE i.order_id = o.id;
    UPDATE payments.ticket_slots AS s
       SET reserved = s.reserved + i.finalized_quantity, sold = s.sold - i.finalized_quantity, updated_at = payments_private.clock()
      FROM payments.ticket_order_items AS i
     WHERE i.order_id = o.id AND s.id = i.slot_id AND i.finalized_quantity > 0;
    UPDATE payments.ticket_order_items AS i SET finalized_quantity = 0
     WHERE i.order_id = o.id AND i.finalized_quantity > 0;
    UPDATE payments.tickets AS t
       SET status = 'void', voided_at = payments_private.clock()
      FROM payments.ticket_order_items AS i
     WHERE i.order_id = o.id AND t.order_item_id = i.id AND t.status = 'active';
    GET DIAGNOSTICS v_voided = ROW_COUNT;
    UPDATE payments.orders SET tickets_issued_at = NULL, status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at, updated_at = payments_private.clock()
     WHERE id = o.id;
    RETURN jsonb_build_object('effect', 'capacity_held', 'sold_returned_to_reserved', v_held,
                              'tickets_voided', v_voided);
END
$$;

COMMENT ON FUNCTION payments_private.hold_ticket_capacity(payments.orders) IS
    'Goods held for a pending ticket order: void tickets, sold back to reserved; PM010, PM011';

-- payments_private.hold_product_stock(o)
-- The same for a product order: sold stock back to the reservation, the
-- pickup code withdrawn.
CREATE OR REPLACE FUNCTION payments_private.hold_product_stock(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_held integer := 0;
BEGIN
    IF o.kind <> 'product' THEN
        RAISE EXCEPTION 'order % is a % order, not a product order', o.order_number, o.kind USING ERRCODE = 'PM010';
    END IF;
    IF o.status <> 'pending' OR o.stock_released_at IS NOT NULL THEN
        RAISE EXCEPTION 'order % is % (released: %); only a pending order holding its reservation is held',
            o.order_number, o.status, o.stock_released_at IS NOT NULL USING ERRCODE = 'PM011';
    END IF;
    IF o.stock_confirmed_at IS NULL AND o.pickup_code IS NULL
       AND NOT EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0) THEN
        RETURN jsonb_build_object('effect', 'none');
    END IF;
    PERFORM payments_private.lock_variants(o.id);
    SELECT coalesce(sum(i.finalized_quantity), 0) INTO v_held
      FROM payments.product_order_items AS i WHERE i.order_id = o.id;
    UPDATE payments.product_variants AS v
       SET reserved_stock = v.reserved_stock + i.finalized_quantity, sold = v.sold - i.finalized_quantity,
           updated_at = payments_private.clock()
      FROM payments.product_order_items AS i
     WHERE i.order_id = o.id AND v.id = i.variant_id AND i.finalized_quantity > 0;
    UPDATE payments.product_order_items AS i SET finalized_quantity = 0
     WHERE i.order_id = o.id AND i.finalized_quantity > 0;
    UPDATE payments.orders SET stock_confirmed_at = NULL, pickup_code = NULL, status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at, updated_at = payments_private.clock()
     WHERE id = o.id;
    RETURN jsonb_build_object('effect', 'stock_held', 'sold_returned_to_reserved', v_held,
                              'pickup_code_voided', o.pickup_code IS NOT NULL);
END
$$;

COMMENT ON FUNCTION payments_private.hold_product_stock(payments.orders) IS
    'Goods held for a pending product order: withdraw the pickup code, sold back to reserved; PM010, PM011';

-- payments_private.pay_goods(o) / hold_goods(o) / release_goods(o)
-- The dispatchers: one per effect, raising on an unknown kind.
CREATE OR REPLACE FUNCTION payments_private.pay_goods(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
BEGIN
    CASE o.kind
    WHEN 'ticket' THEN RETURN payments_private.apply_ticket_payment(o);
    WHEN 'product' THEN RETURN payments_private.apply_product_payment(o);
    ELSE RAISE EXCEPTION 'no pay effect for order kind %', quote_nullable(o.kind) USING ERRCODE = 'PM010';
    END CASE;
END
$$;

COMMENT ON FUNCTION payments_private.pay_goods(payments.orders) IS 'Goods out, by order kind; PM010 for an unknown kind';

CREATE OR REPLACE FUNCTION payments_private.hold_goods(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
BEGIN
    CASE o.kind
    WHEN 'ticket' THEN RETURN payments_private.hold_ticket_capacity(o);
    WHEN 'product' THEN RETURN payments_private.hold_product_stock(o);
    ELSE RAISE EXCEPTION 'no hold effect for order kind %', quote_nullable(o.kind) USING ERRCODE = 'PM010';
    END CASE;
END
$$;

COMMENT ON FUNCTION payments_private.hold_goods(payments.orders) IS 'Goods held, by order kind; PM010 for an unknown kind';

CREATE OR REPLACE FUNCTION payments_private.release_goods(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
BEGIN
    CASE o.kind
    WHEN 'ticket' THEN RETURN payments_private.release_ticket_capacity(o);
    WHEN 'product' THEN RETURN payments_private.release_product_stock(o);
    ELSE RAISE EXCEPTION 'no release effect for order kind %', quote_nullable(o.kind) USING ERRCODE = 'PM010';
    END CASE;
END
$$;

COMMENT ON FUNCTION payments_private.release_goods(payments.orders) IS
    'Goods released, by order kind; PM010 for an unknown kind';

-- payments_private.goods(o, log_id)
-- Runs the effect the order's status calls for (each is idempotent, so a
-- repeated call heals what is missing) and keeps paid_after_release in step
-- with the pay effect's shortfall. Returns the effect.
CREATE OR REPLACE FUNCTION payments_private.goods(o payments.orders, log_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_effect jsonb;
BEGIN
    IF o.status = 'paid' THEN
        v_effect := payments_private.pay_goods(o);
        IF o.shortfall_at IS NOT NULL OR v_effect ->> 'effect' = 'review' THEN
            PERFORM payments_private.shortfall_review(o.id, v_effect ->> 'effect' = 'review', log_id);
        END IF;
    ELSIF o.status = 'pending' THEN
        v_effect := payments_private.hold_goods(o);
    ELSE
        v_effect := payments_private.release_goods(o);
        IF o.shortfall_at IS NOT NULL THEN
            PERFORM payments_private.shortfall_review(o.id, false, log_id);
        END IF;
    END IF;
    RETURN v_effect;
END
$$;

COMMENT ON FUNCTION payments_private.goods(payments.orders, bigint) IS
    'Runs the goods effect of the order''s status (out / held / released) and the shortfall review';

-- payments_private.raise_to_fit(o)
-- resolve_review accept of paid_after_release: raise capacity / stock of the
-- order's slots / variants by exactly the shortfall. Returns what was raised.
CREATE OR REPLACE FUNCTION payments_private.raise_to_fit(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_raised jsonb;
BEGIN
    CASE o.kind
    WHEN 'ticket' THEN
        PERFORM payments_private.lock_slots(o.id);
        WITH need AS (
            SELECT i.slot_id, i.quantity - i.finalized_quantity AS missing
              FROM payments.ticket_order_items AS i WHERE i.order_id = o.id
        ), raised AS (
            UPDATE payments.ticket_slots AS s
               SET capacity = s.reserved + s.sold + n.missing, updated_at = payments_private.clock()
              FROM need AS n
             WHERE s.id = n.slot_id AND s.capacity - s.reserved - s.sold < n.missing
            RETURNING s.code, s.capacity
        )
        SELECT jsonb_agg(to_jsonb(raised)) INTO v_raised FROM raised;
    WHEN 'product' THEN
        PERFORM payments_private.lock_variants(o.id);
        WITH need AS (
            SELECT i.variant_id, i.quantity - i.finalized_quantity AS missing
              FROM payments.product_order_items AS i WHERE i.order_id = o.id
        ), raised AS (
            UPDATE payments.product_variants AS v
               SET stock = v.reserved_stock + v.sold + n.missing, updated_at = payments_private.clock()
              FROM need AS n
             WHERE v.id = n.variant_id AND v.stock - v.reserved_stock - v.sold < n.missing
            RETURNING v.sku, v.stock
        )
        SELECT jsonb_agg(to_jsonb(raised)) INTO v_raised FROM raised;
    ELSE
        RAISE EXCEPTION 'no capacity for order kind %', quote_nullable(o.kind) USING ERRCODE = 'PM010';
    END CASE;
    RETURN v_raised;
END
$$;

COMMENT ON FUNCTION payments_private.raise_to_fit(payments.orders) IS
    'Raises capacity / stock by exactly an order''s shortfall (resolve_review accept); returns what was raised';
