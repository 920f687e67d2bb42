-- The runner's questions to Midtrans, and what follows from the answers.
DROP FUNCTION IF EXISTS payments.orders_due_for_sync(interval, interval, integer);

-- payments.orders_past_expiry(expiry_grace, max_rows)
-- Reconciliation's check 5: pending orders past expires_at + grace. They need
-- Midtrans' answer (and possibly an expire call) before the window closes.
CREATE OR REPLACE FUNCTION payments.orders_past_expiry(
    expiry_grace interval DEFAULT '15 minutes',
    max_rows integer DEFAULT 200
)
RETURNS TABLE (order_number text, expires_at timestamptz, needs_review boolean)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM payments_private.require_row_limit(orders_past_expiry.max_rows, 'max_rows');
    RETURN QUERY
    SELECT o.order_number::text, o.expires_at, o.needs_review
      FROM payments.orders AS o
     WHERE o.status = 'pending' AND o.expires_at < payments_private.clock() - orders_past_expiry.expiry_grace
     ORDER BY o.expires_at
     LIMIT orders_past_expiry.max_rows;
END
$$;

COMMENT ON FUNCTION payments.orders_past_expiry(interval, integer) IS
    'Check 5: pending orders past expires_at + grace, oldest first';

-- payments.expire_order(order_number, source, expiry_grace, even_if_live, run_id, payload)
-- Closes a pending order's payment window locally: the window is over and
-- nothing at Midtrans can still pay it (Midtrans answered "no transaction",
-- or only failed attempts; or an operator decides). The order is then
-- released as expired, unless its ledger covers it (it is paid then).
--   expiry_grace  NULL: now; otherwise only past expires_at + grace
--   even_if_live  also when the ledger holds a live attempt (pending,
--                 authorised or challenged): a later payment of it is a late
--                 payment, re-acquired if there is room
-- A paid or already released order, an order not yet past expiry + grace, or
-- one with a live attempt is left as it is (decision not_closed, logged).
-- PM001 unknown order.
CREATE OR REPLACE FUNCTION payments.expire_order(
    order_number text,
    source text DEFAULT 'manual',
    expiry_grace interval DEFAULT NULL,
    even_if_live boolean DEFAULT false,
    run_id bigint DEFAULT NULL,
    payload jsonb DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v_live boolean;
    v_why text;
    v_result jsonb;
    v_log_id bigint;
    v_payload jsonb := payments_private.bounded(expire_order.payload, 'payload');   -- write_log scrubs it
BEGIN
    PERFORM payments_private.require_source(expire_order.source);
    o := payments_private.lock_order(expire_order.order_number);
    v_log_id := payments_private.next_log_id();
    v_live := EXISTS (SELECT 1 FROM payments.gateway_transactions AS t
                       WHERE t.order_id = o.id AND t.stage IN (10, 11, 20));
    v_why := CASE WHEN o.status <> 'pending' THEN 'order is ' || o.status
                  WHEN expire_order.expiry_grace IS NOT NULL AND o.expires_at >= payments_private.clock() - expire_order.expiry_grace
                      THEN 'not past expires_at + grace'
                  WHEN v_live AND NOT expire_order.even_if_live THEN 'a payment attempt is still live'
             END;
    IF v_why IS NULL THEN
        UPDATE payments.orders SET expired_locally_at = coalesce(expired_locally_at, payments_private.clock()), updated_at = payments_private.clock()
         WHERE id = o.id;
        v_result := payments_private.rederive(o.id, v_log_id);
    END IF;
    SELECT * INTO o FROM payments.orders AS x WHERE x.id = o.id;
    PERFORM payments_private.write_log(v_log_id, expire_order.source, 'gateway_status',
        CASE WHEN v_why IS NOT NULL THEN 'not_closed'
             ELSE payments_private.decision_label(v_result ->> 'previous_status', o.status, 'local', false, false) END,
        o.order_number, NULL, 'expire', NULL, NULL, NULL, NULL,
        jsonb_build_object('evidence', 'local', 'previous_status', coalesce(v_result ->> 'previous_status', o.status),
                           'new_status', o.status, 'why_not', v_why, 'live_attempt', v_live,
                           'effects', CASE WHEN coalesce(v_result -> 'effect' ->> 'effect', 'none') <> 'none'
                                           THEN jsonb_build_array(v_result -> 'effect') ELSE '[]'::jsonb END,
                           'expires_at', o.expires_at),
        v_payload, expire_order.run_id);
    IF expire_order.run_id IS NOT NULL THEN
        PERFORM payments_private.count_in_run(expire_order.run_id, o.order_number, v_why IS NULL);
    END IF;
    RETURN jsonb_build_object('order_number', o.order_number, 'kind', o.kind,
                              'previous_status', coalesce(v_result ->> 'previous_status', o.status),
                              'new_status', o.status,
                              'decision', CASE WHEN v_why IS NOT NULL THEN 'not_closed'
                                               ELSE payments_private.decision_label(v_result ->> 'previous_status',
                                                                                    o.status, 'local', false, false) END,
                              'why_not', v_why,
                              'effects', CASE WHEN coalesce(v_result -> 'effect' ->> 'effect', 'none') <> 'none'
                                              THEN jsonb_build_array(v_result -> 'effect') ELSE '[]'::jsonb END,
                              'needs_review', o.needs_review, 'log_id', v_log_id);
END
$$;

COMMENT ON FUNCTION payments.expire_order(text, text, interval, boolean, bigint, jsonb) IS
    'Closes a pending order''s payment window locally (released as expired unless paid); PM001';

-- payments.apply_status_not_found(order_number, source, expiry_grace, run_id)
-- Midtrans answered "Transaction doesn't exist." for an order: the customer
-- never started a payment. Sync records the check (counted as not_found in
-- its run); reconcile (expiry_grace given) closes the window of an order past
-- expires_at + grace through expire_order.
CREATE OR REPLACE FUNCTION payments.apply_status_not_found(
    order_number text,
    source text,
    expiry_grace interval DEFAULT NULL,
    run_id bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
BEGIN
    PERFORM payments_private.require_source(apply_status_not_found.source);
    o := payments_private.lock_order(apply_status_not_found.order_number);
    UPDATE payments.orders SET gateway_checked_at = payments_private.clock() WHERE id = o.id;
    IF apply_status_not_found.expiry_grace IS NOT NULL THEN
        RETURN payments.expire_order(o.order_number, apply_status_not_found.source,
            apply_status_not_found.expiry_grace, true, apply_status_not_found.run_id,
            jsonb_build_object('reason', 'no transaction at Midtrans past expires_at + grace'));
    END IF;
    IF apply_status_not_found.run_id IS NOT NULL THEN   -- not_found once per order; PM009 for a closed run
        PERFORM payments_private.answer_in_run(apply_status_not_found.run_id, o.order_number, 'not_found',
                                               false, false);
    END IF;
    RETURN jsonb_build_object('order_number', o.order_number, 'kind', o.kind,
                              'previous_status', o.status, 'new_status', o.status,
                              'decision', 'not_found', 'effects', '[]'::jsonb,
                              'needs_review', o.needs_review);
END
$$;

COMMENT ON FUNCTION payments.apply_status_not_found(text, text, interval, bigint) IS
    'Midtrans has no transaction for the order: record the check; with a grace, close the window past it';
