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
-- The order with its items, its ledger (every transaction and what it
-- covers), its money, every open review and ticket counts, as one jsonb
-- (PM001 if unknown). Bearer codes (the pickup code) are shown only to a
-- member of payments_bearer_codes; everyone else sees whether there is one.
DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments.order_summary(text)')) <> 'jsonb' THEN
        DROP FUNCTION payments.order_summary(text);
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION payments.order_summary(order_number text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v jsonb;
BEGIN
    SELECT * INTO o FROM payments.orders AS x WHERE x.order_number = order_summary.order_number;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown order %', quote_nullable(left(order_summary.order_number, 60))
            USING ERRCODE = 'PM001';
    END IF;
    v := to_jsonb(o) - 'id' - 'pickup_code'
         || jsonb_build_object(
             'pickup_code', CASE WHEN o.pickup_code IS NULL THEN NULL
                                 WHEN pg_has_role(session_user, 'payments_bearer_codes', 'MEMBER') THEN o.pickup_code
                                 ELSE '(issued; readable by payments_bearer_codes)' END,
             'standing', payments_private.derive(o, payments_private.ledger_of(o.id)) -> 'standing',
             'transactions', coalesce((
                 SELECT jsonb_agg(jsonb_build_object(
                            'transaction_id', t.transaction_id, 'transaction_status', t.transaction_status,
                            'fraud_status', t.fraud_status, 'stage', t.stage, 'gross_amount', t.gross_amount,
                            'refund_amount', t.refund_amount, 'covers', payments_private.cover(t.stage, t.gross_amount),
                            'seen_paid', t.seen_paid, 'midtrans_at', t.midtrans_at, 'updated_at', t.updated_at)
                            ORDER BY t.first_seen_at, t.transaction_id)
                   FROM payments.gateway_transactions AS t WHERE t.order_id = o.id), '[]'::jsonb),
             'open_reviews', coalesce((
                 SELECT jsonb_agg(jsonb_build_object('reason', r.reason, 'subject', r.subject,
                                                     'opened_at', r.opened_at) ORDER BY r.opened_at, r.id)
                   FROM payments.order_reviews AS r WHERE r.order_id = o.id AND r.resolved_at IS NULL),
                 '[]'::jsonb),
             'items', coalesce(
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
                WHEN 'product' THEN
                    (SELECT jsonb_agg(jsonb_build_object(
                                'sku', pv.sku, 'quantity', i.quantity,
                                'finalized_quantity', i.finalized_quantity) ORDER BY i.id)
                       FROM payments.product_order_items AS i
                       JOIN payments.product_variants AS pv ON pv.id = i.variant_id
                      WHERE i.order_id = o.id)
                END, '[]'::jsonb));
    RETURN v;
END
$$;

COMMENT ON FUNCTION payments.order_summary(text) IS
    'An order with its ledger, money, open reviews, items and ticket counts as jsonb (codes for bearer-code readers only); PM001';
