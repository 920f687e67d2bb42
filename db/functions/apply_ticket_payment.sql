-- payments.apply_ticket_payment(order_number)
-- Side-effect of a paid ticket order (DESIGN §6): issues only the missing
-- tickets and finalizes only the missing quantity. Idempotent; a late payment
-- after release re-acquires capacity under lock or flags paid_after_release.
CREATE OR REPLACE FUNCTION payments.apply_ticket_payment(order_number text)
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
    v_finalized integer := 0;
    v_issued integer := 0;
BEGIN
    o := payments.lock_order(apply_ticket_payment.order_number, 'ticket');
    IF o.status <> 'paid' THEN
        RAISE EXCEPTION 'order % is %, not paid', o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    -- capacity was handed back (expired, then paid late): the missing quantity
    -- must come from free capacity instead of the order's own reservation
    v_reacquire := o.capacity_released_at IS NOT NULL;

    PERFORM 1 FROM payments.ticket_slots AS s
     WHERE s.id IN (SELECT i.slot_id FROM payments.ticket_order_items AS i WHERE i.order_id = o.id)
     ORDER BY s.id
       FOR UPDATE OF s;

    IF v_reacquire THEN
        SELECT jsonb_agg(jsonb_build_object('slot', s.code, 'missing', i.quantity - i.finalized_quantity,
                                            'free', s.capacity - s.reserved - s.sold) ORDER BY s.id)
          INTO v_shortfall
          FROM payments.ticket_order_items AS i
          JOIN payments.ticket_slots AS s ON s.id = i.slot_id
         WHERE i.order_id = o.id
           AND i.quantity - i.finalized_quantity > s.capacity - s.reserved - s.sold;
        IF v_shortfall IS NOT NULL THEN
            UPDATE payments.orders
               SET needs_review = true, review_reason = 'paid_after_release', updated_at = now()
             WHERE id = o.id AND review_reason IS DISTINCT FROM 'paid_after_release';
            RETURN jsonb_build_object('effect', 'review', 'review_reason', 'paid_after_release',
                                      'shortfall', v_shortfall);
        END IF;
    END IF;

    -- finalize the missing quantity: reserved -> sold, or free -> sold on re-acquire
    UPDATE payments.ticket_slots AS s
       SET reserved = s.reserved - CASE WHEN v_reacquire THEN 0 ELSE m.missing END,
           sold = s.sold + m.missing,
           updated_at = now()
      FROM (SELECT i.slot_id, i.quantity - i.finalized_quantity AS missing
              FROM payments.ticket_order_items AS i
             WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity) AS m
     WHERE s.id = m.slot_id;
    UPDATE payments.ticket_order_items AS i
       SET finalized_quantity = i.quantity
     WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity;
    GET DIAGNOSTICS v_finalized = ROW_COUNT;

    -- issue only the missing tickets; seq continues after any voided ones
    INSERT INTO payments.tickets (order_item_id, seq, code)
    SELECT i.id, t.max_seq + g, payments.random_code(16)
      FROM payments.ticket_order_items AS i
      CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE x.status = 'active') AS active,
                   coalesce(max(x.seq), 0) AS max_seq
              FROM payments.tickets AS x
             WHERE x.order_item_id = i.id) AS t
      CROSS JOIN LATERAL generate_series(1, i.quantity - t.active::integer) AS g
     WHERE i.order_id = o.id;
    GET DIAGNOSTICS v_issued = ROW_COUNT;

    IF v_issued > 0 OR v_finalized > 0 OR o.tickets_issued_at IS NULL OR v_reacquire
       OR o.review_reason = 'paid_after_release' THEN
        UPDATE payments.orders
           SET tickets_issued_at = CASE WHEN v_issued > 0 OR tickets_issued_at IS NULL
                                        THEN now() ELSE tickets_issued_at END,
               capacity_released_at = NULL,
               needs_review = needs_review AND review_reason IS DISTINCT FROM 'paid_after_release',
               review_reason = CASE WHEN review_reason = 'paid_after_release' THEN NULL
                                    ELSE review_reason END,
               updated_at = now()
         WHERE id = o.id;
    END IF;

    RETURN jsonb_build_object(
        'effect', CASE WHEN v_issued > 0 OR v_finalized > 0 THEN 'tickets_issued' ELSE 'none' END,
        'tickets_issued', v_issued,
        'items_finalized', v_finalized,
        'reacquired', v_reacquire);
END
$$;

COMMENT ON FUNCTION payments.apply_ticket_payment(text) IS
    'Paid ticket order: issue missing tickets, finalize missing capacity (idempotent); PM001, PM010, PM011';
