-- payments.resolve_review(order_number, action, note, actor)
-- Operator actions for an order flagged needs_review, each logged (source
-- manual, event_type review_resolved):
--   accept   paid_after_release: raise capacity / stock by the shortfall, then
--            fulfil; an unpaid order flagged amount_mismatch, partial_refund or
--            partial_chargeback: take the payment as good and fulfil.
--   refund   the money was returned at Midtrans: mark refunded and hand back
--            everything the order holds (tickets voided).
--   dismiss  clear the flag, change nothing else (e.g. a fraud challenge, a
--            reversal or a chargeback that was looked at).
CREATE OR REPLACE FUNCTION payments.resolve_review(
    order_number text,
    action text,
    note text DEFAULT NULL,
    actor text DEFAULT current_user
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v_effect jsonb;
    v_raised jsonb;
BEGIN
    o := payments.lock_order(resolve_review.order_number);
    IF NOT o.needs_review THEN
        RAISE EXCEPTION 'order % is not flagged for review', o.order_number USING ERRCODE = 'PM012';
    END IF;
    IF resolve_review.action IS NULL OR resolve_review.action NOT IN ('accept', 'refund', 'dismiss') THEN
        RAISE EXCEPTION 'action must be accept, refund or dismiss, got %',
            quote_nullable(resolve_review.action) USING ERRCODE = 'PM009';
    END IF;

    IF resolve_review.action = 'accept' THEN
        IF o.review_reason = 'paid_after_release' THEN
            -- make room for exactly the shortfall, then fulfil as usual
            IF o.kind = 'ticket' THEN
                WITH need AS (
                    SELECT i.slot_id, i.quantity - i.finalized_quantity AS missing
                      FROM payments.ticket_order_items AS i WHERE i.order_id = o.id
                ), raised AS (
                    UPDATE payments.ticket_slots AS s
                       SET capacity = s.reserved + s.sold + n.missing, updated_at = now()
                      FROM need AS n
                     WHERE s.id = n.slot_id AND s.capacity - s.reserved - s.sold < n.missing
                    RETURNING s.code, s.capacity
                )
                SELECT jsonb_agg(to_jsonb(raised)) INTO v_raised FROM raised;
                v_effect := payments.apply_ticket_payment(o.order_number);
            ELSE
                WITH need AS (
                    SELECT i.variant_id, i.quantity - i.finalized_quantity AS missing
                      FROM payments.product_order_items AS i WHERE i.order_id = o.id
                ), raised AS (
                    UPDATE payments.product_variants AS v
                       SET stock = v.reserved_stock + v.sold + n.missing, updated_at = now()
                      FROM need AS n
                     WHERE v.id = n.variant_id AND v.stock - v.reserved_stock - v.sold < n.missing
                    RETURNING v.sku, v.stock
                )
                SELECT jsonb_agg(to_jsonb(raised)) INTO v_raised FROM raised;
                v_effect := payments.apply_product_payment(o.order_number);
            END IF;
        ELSIF o.review_reason IN ('amount_mismatch', 'partial_refund', 'partial_chargeback')
              AND o.status IN ('pending', 'failed', 'expired') THEN
            -- money did arrive (a wrong amount, or a payment that was already
            -- partly refunded when we first heard of it): take it as paid
            UPDATE payments.orders
               SET status = 'paid', paid_at = now(), paid_amount = coalesce(paid_amount, gross_amount),
                   updated_at = now()
             WHERE id = o.id;
            v_effect := CASE o.kind WHEN 'ticket' THEN payments.apply_ticket_payment(o.order_number)
                                    ELSE payments.apply_product_payment(o.order_number) END;
        ELSE
            RAISE EXCEPTION 'accept fulfils a late payment (paid_after_release) or an unpaid order flagged '
                            'amount_mismatch / partial_refund / partial_chargeback; order % is % and '
                            'flagged %: use refund or dismiss',
                o.order_number, o.status, o.review_reason USING ERRCODE = 'PM012';
        END IF;
    ELSIF resolve_review.action = 'refund' THEN
        UPDATE payments.orders SET status = 'refunded', updated_at = now() WHERE id = o.id;
        v_effect := CASE o.kind WHEN 'ticket' THEN payments.release_ticket_capacity(o.order_number)
                                ELSE payments.release_product_stock(o.order_number) END;
    END IF;

    IF v_effect ->> 'effect' = 'review' THEN
        -- cannot happen after raising capacity, but never report success falsely
        RAISE EXCEPTION 'order % could not be fulfilled: %', o.order_number, v_effect::text
            USING ERRCODE = 'PM012';
    END IF;

    UPDATE payments.orders SET needs_review = false, review_reason = NULL, updated_at = now()
     WHERE id = o.id;
    PERFORM payments.log_event('manual', 'review_resolved', resolve_review.action, o.order_number,
        jsonb_build_object('review_reason', o.review_reason, 'previous_status', o.status,
                           'note', resolve_review.note, 'actor', resolve_review.actor,
                           'effect', v_effect, 'capacity_raised', v_raised));
    SELECT * INTO o FROM payments.orders AS x WHERE x.id = o.id;
    RETURN jsonb_build_object('order_number', o.order_number, 'action', resolve_review.action,
                              'status', o.status, 'effect', v_effect, 'capacity_raised', v_raised);
END
$$;

COMMENT ON FUNCTION payments.resolve_review(text, text, text, text) IS
    'Operator action on a flagged order: accept | refund | dismiss, logged; PM001, PM009, PM012';
