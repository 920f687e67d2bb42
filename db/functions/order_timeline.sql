-- payments.order_timeline(order_number)
-- One order's full story from webhook_logs, oldest first: every gateway event
-- with its decision, rejection, repair and operator action.
CREATE OR REPLACE FUNCTION payments.order_timeline(order_number text)
RETURNS TABLE (at timestamptz, source text, event_type text, transaction_status text,
               fraud_status text, transaction_id text, outcome text, detail jsonb)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
    SELECT l.created_at, l.source, l.event_type, l.transaction_status, l.fraud_status,
           l.transaction_id, l.outcome, l.detail
      FROM payments.webhook_logs AS l
     WHERE l.order_number = order_timeline.order_number
     ORDER BY l.id
$$;

COMMENT ON FUNCTION payments.order_timeline(text) IS 'Every webhook_logs entry of one order, oldest first';

-- payments.order_summary(order_number)
-- The order row with its items and counts, as one jsonb (PM001 if unknown).
CREATE OR REPLACE FUNCTION payments.order_summary(order_number text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v jsonb;
BEGIN
    SELECT to_jsonb(o) - 'id'
           || jsonb_build_object('items', coalesce(
                CASE o.kind
                WHEN 'ticket' THEN
                    (SELECT jsonb_agg(jsonb_build_object(
                                'slot', s.code, 'quantity', i.quantity,
                                'finalized_quantity', i.finalized_quantity,
                                'active_tickets', (SELECT count(*) FROM payments.tickets AS t
                                                    WHERE t.order_item_id = i.id AND t.status = 'active'),
                                'void_tickets', (SELECT count(*) FROM payments.tickets AS t
                                                  WHERE t.order_item_id = i.id AND t.status = 'void'))
                                ORDER BY i.id)
                       FROM payments.ticket_order_items AS i
                       JOIN payments.ticket_slots AS s ON s.id = i.slot_id
                      WHERE i.order_id = o.id)
                ELSE
                    (SELECT jsonb_agg(jsonb_build_object(
                                'sku', v.sku, 'quantity', i.quantity,
                                'finalized_quantity', i.finalized_quantity) ORDER BY i.id)
                       FROM payments.product_order_items AS i
                       JOIN payments.product_variants AS v ON v.id = i.variant_id
                      WHERE i.order_id = o.id)
                END, '[]'::jsonb))
      INTO v
      FROM payments.orders AS o
     WHERE o.order_number = order_summary.order_number;
    IF v IS NULL THEN
        RAISE EXCEPTION 'unknown order %', quote_nullable(left(order_summary.order_number, 60))
            USING ERRCODE = 'PM001';
    END IF;
    RETURN v;
END
$$;

COMMENT ON FUNCTION payments.order_summary(text) IS 'An order with its items and ticket counts as jsonb; PM001';
