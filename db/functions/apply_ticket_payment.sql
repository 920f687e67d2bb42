-- payments_private.apply_ticket_payment(o)
-- Goods out for a paid ticket order (the caller holds the order row lock):
-- issues only the missing tickets and finalizes only the missing quantity
-- (reserved -> sold). Idempotent. After a release (a late payment) the
-- missing quantity comes from free capacity under the slot locks; when there
-- is not enough, nothing is issued, nothing oversold: shortfall_at is set and
-- the result says so (the caller opens paid_after_release). The order's own
-- rows (tickets, the order) are written before the shared slot rows are
-- locked, so a hot slot is held only for its counter update and the commit.
-- The caller passes the order with its new status (settle), written here
-- together with the markers.
DROP FUNCTION IF EXISTS payments.apply_ticket_payment(text);
CREATE OR REPLACE FUNCTION payments_private.apply_ticket_payment(o payments.orders)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_reacquire boolean;
    v_shortfall jsonb;
    v_finalized integer := 0;
    v_issued integer := 0;
    v_locked integer;
BEGIN
    IF o.kind <> 'ticket' THEN
        RAISE EXCEPTION 'order % is a % order, not a ticket order', o.order_number, o.kind USING ERRCODE = 'PM010';
    END IF;
    IF o.status <> 'paid' THEN
        RAISE EXCEPTION 'order % is %, not paid', o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    -- capacity was handed back (released, then paid late): the missing quantity
    -- must come from free capacity instead of the order's own reservation,
    -- checked under the slot locks before anything is issued
    v_reacquire := o.capacity_released_at IS NOT NULL;
    IF v_reacquire THEN
        v_locked := payments_private.lock_slots(o.id);
        SELECT jsonb_agg(jsonb_build_object('slot', s.code, 'missing', i.quantity - i.finalized_quantity,
                                            'free', s.capacity - s.reserved - s.sold) ORDER BY s.id)
          INTO v_shortfall
          FROM payments.ticket_order_items AS i
          JOIN payments.ticket_slots AS s ON s.id = i.slot_id
         WHERE i.order_id = o.id
           AND i.quantity - i.finalized_quantity > s.capacity - s.reserved - s.sold;
        IF v_shortfall IS NOT NULL THEN
            UPDATE payments.orders SET shortfall_at = coalesce(shortfall_at, payments_private.clock()), status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at, updated_at = payments_private.clock()
             WHERE id = o.id AND shortfall_at IS NULL;
            RETURN jsonb_build_object('effect', 'review', 'shortfall', true, 'missing', v_shortfall);
        END IF;
    END IF;

    -- issue only the missing tickets; seq continues after any voided ones.
    -- Everything that concerns this order alone comes first: the slot rows,
    -- which every buyer of a show shares, are locked last, so they are held
    -- only for the counter update and the commit
    INSERT INTO payments.tickets (order_item_id, seq, code)
    SELECT i.id, t.max_seq + g, payments_private.random_code(16)
      FROM payments.ticket_order_items AS i
      CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE x.status = 'active') AS active,
                   coalesce(max(x.seq), 0) AS max_seq
              FROM payments.tickets AS x
             WHERE x.order_item_id = i.id) AS t
      CROSS JOIN LATERAL generate_series(1, i.quantity - t.active::integer) AS g
     WHERE i.order_id = o.id;
    GET DIAGNOSTICS v_issued = ROW_COUNT;

    -- the order's markers and its new status, in the same row version; a
    -- repeated call that finds nothing to change writes nothing
    UPDATE payments.orders AS x
       SET tickets_issued_at = CASE WHEN v_issued > 0 OR x.tickets_issued_at IS NULL
                                    THEN payments_private.clock() ELSE x.tickets_issued_at END,
           capacity_released_at = NULL,
           shortfall_at = NULL,
           status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at,
           updated_at = payments_private.clock()
     WHERE x.id = o.id
       AND (v_issued > 0 OR x.tickets_issued_at IS NULL OR x.capacity_released_at IS NOT NULL
            OR x.shortfall_at IS NOT NULL
            OR (x.status, x.paid_at, x.gateway_checked_at) IS DISTINCT FROM (o.status, o.paid_at, o.gateway_checked_at));

    -- finalize the missing quantity: reserved -> sold, or free -> sold on
    -- re-acquire (slots locked in id order: no deadlock with another order)
    IF NOT v_reacquire THEN
        v_locked := payments_private.lock_slots(o.id);
    END IF;
    WITH m AS (
        UPDATE payments.ticket_order_items AS i
           SET finalized_quantity = i.quantity
          FROM (SELECT x.id, x.quantity - x.finalized_quantity AS missing
                  FROM payments.ticket_order_items AS x
                 WHERE x.order_id = o.id AND x.finalized_quantity < x.quantity) AS d
         WHERE i.id = d.id
        RETURNING i.slot_id, d.missing
    ), u AS (
        UPDATE payments.ticket_slots AS s
           SET reserved = s.reserved - CASE WHEN v_reacquire THEN 0 ELSE t.missing END,
               sold = s.sold + t.missing,
               updated_at = payments_private.clock()
          FROM (SELECT m.slot_id, sum(m.missing)::integer AS missing FROM m GROUP BY m.slot_id) AS t
         WHERE s.id = t.slot_id
    )
    SELECT count(*) INTO v_finalized FROM m;

    RETURN jsonb_build_object(
        'effect', CASE WHEN v_issued > 0 OR v_finalized > 0 THEN 'tickets_issued' ELSE 'none' END,
        'tickets_issued', v_issued,
        'items_finalized', v_finalized,
        'reacquired', v_reacquire);
END
$$;

COMMENT ON FUNCTION payments_private.apply_ticket_payment(payments.orders) IS
    'Goods out for a paid ticket order: issue missing tickets, finalize missing capacity (idempotent); PM010, PM011';
