CREATE SCHEMA payments;
COMMENT ON SCHEMA payments IS 'Payment finality for Midtrans shops: orders, capacity, stock, tickets, event log';
CREATE TYPE payments.normalized_status AS (
	order_status text,
	review_reason text,
	recognized boolean
);
CREATE FUNCTION payments.alerts() RETURNS TABLE(name text, observed numeric, threshold numeric, "window" interval, firing boolean, description text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
    WITH t AS (SELECT * FROM payments.alert_thresholds),
    observed (name, value) AS (
        SELECT 'signature_failures',
               (SELECT count(*) FROM payments.webhook_logs AS l
                 WHERE l.event_type = 'signature_invalid'
                   AND l.created_at > now() - (SELECT t."window" FROM t WHERE t.name = 'signature_failures'))::numeric
        UNION ALL
        SELECT 'mismatches_found',
               (SELECT coalesce(sum((r.totals ->> 'mismatches_found')::numeric), 0) FROM payments.runs AS r
                 WHERE r.kind = 'reconcile'
                   AND r.started_at > now() - (SELECT t."window" FROM t WHERE t.name = 'mismatches_found'))
        UNION ALL
        SELECT 'repairs',
               (SELECT count(*) FROM payments.webhook_logs AS l
                 WHERE l.event_type LIKE 'reconcile\_%' AND l.event_type NOT IN ('reconcile_run', 'reconcile_error')
                   AND l.outcome IN ('repaired', 'flagged')
                   AND l.created_at > now() - (SELECT t."window" FROM t WHERE t.name = 'repairs'))::numeric
        UNION ALL
        SELECT 'oldest_unfulfilled_paid_seconds',
               coalesce((SELECT extract(epoch FROM now() - min(o.paid_at)) FROM payments.orders AS o
                          WHERE o.status = 'paid'
                            AND ((o.kind = 'ticket' AND (o.tickets_issued_at IS NULL
                                                         OR o.capacity_released_at IS NOT NULL))
                              OR (o.kind = 'product' AND (o.pickup_code IS NULL
                                                          OR o.stock_confirmed_at IS NULL
                                                          OR o.stock_released_at IS NOT NULL)))), 0)::numeric
        UNION ALL
        SELECT 'open_reviews',
               (SELECT count(*) FROM payments.orders AS o WHERE o.needs_review)::numeric
        UNION ALL
        SELECT 'stale_pending',
               (SELECT count(*) FROM payments.orders AS o
                 WHERE o.status = 'pending'
                   AND o.expires_at < now() - (SELECT t."window" FROM t WHERE t.name = 'stale_pending'))::numeric
        UNION ALL
        SELECT 'last_sync_age_seconds',
               (SELECT extract(epoch FROM now() - max(r.finished_at)) FROM payments.runs AS r
                 WHERE r.kind = 'sync' AND r.error IS NULL AND r.finished_at IS NOT NULL)::numeric
        UNION ALL
        SELECT 'last_reconcile_age_seconds',
               (SELECT extract(epoch FROM now() - max(r.finished_at)) FROM payments.runs AS r
                 WHERE r.kind = 'reconcile' AND r.error IS NULL AND r.finished_at IS NOT NULL)::numeric
    )
    SELECT o.name, round(o.value, 3), t.threshold, t."window",
           coalesce(o.value > t.threshold, true), t.description
      FROM observed AS o
      JOIN t ON t.name = o.name
     ORDER BY o.name
$$;
COMMENT ON FUNCTION payments.alerts() IS 'DESIGN §8 alerts: name, observed value, threshold, window, firing; NULL observed (never ran) fires';
CREATE FUNCTION payments.apply_gateway_status(order_number text, transaction_status text, fraud_status text DEFAULT NULL::text, gross_amount numeric DEFAULT NULL::numeric, transaction_id text DEFAULT NULL::text, status_code text DEFAULT NULL::text, source text DEFAULT 'manual'::text, payload jsonb DEFAULT NULL::jsonb, run_id bigint DEFAULT NULL::bigint, evidence text DEFAULT NULL::text, trigger_only boolean DEFAULT false) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    n payments.normalized_status;
    v_ts text := lower(btrim(apply_gateway_status.transaction_status));
    v_fs text := nullif(lower(btrim(apply_gateway_status.fraud_status)), '');
    v_tx text := nullif(btrim(apply_gateway_status.transaction_id), '');
    v_same_tx boolean;
    v_other_tx boolean;
    v_tx_rank integer;          -- the highest rank this transaction already reached
    v_remaining payments.gateway_transactions;  -- another transaction still paid, if any
    v_new_status text;
    v_decision text;
    v_flag text;            -- review reason to set
    v_accept boolean := true;   -- the event is applied (not ignored as stale / unknown)
    v_record boolean;           -- ... and describes the recorded transaction's gateway state
    v_effects jsonb := '[]'::jsonb;
    v_effect jsonb;
    v_clear_challenge boolean;
    v_prev_status text;
    v_log_id bigint;
    v_evidence text;
    v_payload jsonb := payments.scrub_secrets(apply_gateway_status.payload);
BEGIN
    PERFORM payments.require_source(apply_gateway_status.source);
    IF v_ts IS NULL OR v_ts = '' THEN
        RAISE EXCEPTION 'transaction_status is required' USING ERRCODE = 'PM009';
    END IF;
    -- what the status rests on: a notification (signed, status unsigned), the
    -- Status API's answer, an action call's answer, or nothing from Midtrans
    v_evidence := coalesce(apply_gateway_status.evidence,
        CASE WHEN apply_gateway_status.source = 'webhook' THEN 'notification'
             WHEN apply_gateway_status.status_code IS NULL
                  AND apply_gateway_status.source IN ('manual', 'reconcile', 'cron') THEN 'local'
             ELSE 'status_api' END);
    n := payments.normalize_midtrans_status(v_ts, v_fs);
    IF n.recognized AND NOT payments.status_code_documented(v_evidence, v_ts, v_fs,
                                                            apply_gateway_status.status_code) THEN
        -- e.g. a signed `201` (pending) body relabelled `settlement`: no
        -- documented source sends that pair; nothing changes
        INSERT INTO payments.webhook_logs (source, event_type, order_number, transaction_id,
            transaction_status, fraud_status, status_code, gross_amount, signature_valid, outcome,
            detail, payload, run_id)
        VALUES (apply_gateway_status.source, 'status_inconsistent',
            left(apply_gateway_status.order_number, 100), left(v_tx, 200), left(v_ts, 64), left(v_fs, 64),
            left(apply_gateway_status.status_code, 16), apply_gateway_status.gross_amount,
            CASE WHEN apply_gateway_status.source = 'webhook' THEN true END, 'rejected',
            jsonb_build_object('evidence', v_evidence,
                               'reason', 'Midtrans documents no ' || v_evidence || ' with status_code '
                                         || coalesce(apply_gateway_status.status_code, 'NULL')
                                         || ' for ' || v_ts || coalesce('/' || v_fs, '')),
            v_payload, apply_gateway_status.run_id)
        RETURNING id INTO v_log_id;
        RETURN jsonb_build_object('order_number', apply_gateway_status.order_number,
                                  'decision', 'status_inconsistent', 'effects', '[]'::jsonb,
                                  'log_id', v_log_id);
    END IF;
    o := payments.lock_order(apply_gateway_status.order_number);
    v_prev_status := o.status;
    v_new_status := o.status;
    v_same_tx := v_tx IS NOT NULL AND v_tx = o.gateway_transaction_id;
    v_other_tx := v_tx IS NOT NULL AND o.gateway_transaction_id IS NOT NULL
                  AND v_tx <> o.gateway_transaction_id;
    SELECT t.rank INTO v_tx_rank FROM payments.gateway_transactions AS t
     WHERE t.order_id = o.id AND t.transaction_id = v_tx;
    IF NOT n.recognized THEN
        v_decision := 'unknown_status';
        v_accept := false;
    ELSIF v_tx_rank > payments.gateway_rank(v_ts) AND v_evidence = 'status_api' THEN
        -- Midtrans' current answer is behind what we recorded for the same
        -- transaction (recorded settlement, Midtrans says pending): what we
        -- recorded did not come from Midtrans as it stands; people decide
        v_decision := 'gateway_disagreement';
        v_flag := 'gateway_disagreement';
        v_accept := false;
    ELSIF v_tx_rank > payments.gateway_rank(v_ts) THEN
        -- this transaction already moved past this status (e.g. a retried
        -- `settlement` arriving after the `deny` reversal): stale, whatever
        -- the order's other transactions reported in between
        v_decision := 'stale_ignored';
        v_accept := false;
    ELSIF n.order_status IS NULL THEN
        -- partial_refund / chargeback / partial_chargeback: people decide
        v_decision := 'flagged';
        v_flag := n.review_reason;
    ELSE
        CASE o.status
        WHEN 'pending' THEN
            CASE n.order_status
            WHEN 'pending' THEN
                v_decision := CASE WHEN n.review_reason IS NULL THEN 'noop' ELSE 'flagged' END;
                v_flag := n.review_reason;
            WHEN 'paid' THEN
                IF apply_gateway_status.gross_amount IS NOT NULL
                   AND apply_gateway_status.gross_amount <> o.gross_amount THEN
                    v_decision := 'amount_mismatch';
                    v_flag := 'amount_mismatch';
                ELSE
                    v_decision := 'paid';
                    v_new_status := 'paid';
                END IF;
            WHEN 'refunded' THEN
                v_decision := 'refunded';
                v_new_status := 'refunded';
            ELSE  -- failed, expired
                v_decision := 'released';
                v_new_status := n.order_status;
            END CASE;
        WHEN 'paid' THEN
            CASE n.order_status
            WHEN 'pending' THEN
                v_decision := 'stale_ignored';
                v_accept := false;
            WHEN 'paid' THEN
                IF v_other_tx THEN
                    -- a second, different transaction paid the same order
                    v_decision := 'duplicate_payment';
                    v_flag := 'duplicate_payment';
                    v_accept := false;
                ELSE
                    v_decision := 'noop';   -- still re-runs any missing side-effect below
                END IF;
            WHEN 'failed' THEN
                IF v_same_tx THEN
                    v_remaining := payments.other_paid_transaction(o.id, v_tx);
                    IF v_remaining.transaction_id IS NOT NULL THEN
                        -- another transaction's payment still stands: the order
                        -- stays paid by it (and is no longer paid twice)
                        v_decision := 'reversed_other_payment_stands';
                        v_accept := false;
                    ELSE
                        v_decision := 'reversed';   -- e.g. settlement -> deny
                        v_new_status := 'failed';
                        v_flag := 'payment_reversed';
                    END IF;
                ELSE
                    v_decision := 'stale_ignored';  -- an older attempt failing
                    v_accept := false;
                END IF;
            WHEN 'expired' THEN
                IF v_same_tx AND v_evidence = 'status_api' THEN
                    -- Midtrans says the paying transaction expired: a paid
                    -- transaction never expires, so our record is wrong
                    v_decision := 'gateway_disagreement';
                    v_flag := 'gateway_disagreement';
                ELSE
                    v_decision := 'stale_ignored';
                END IF;
                v_accept := false;
            WHEN 'refunded' THEN
                IF v_other_tx THEN
                    v_decision := 'flagged';
                    v_flag := 'refund_other_transaction';
                    v_accept := false;
                ELSE
                    v_remaining := payments.other_paid_transaction(o.id, v_tx);
                    IF v_remaining.transaction_id IS NOT NULL THEN
                        v_decision := 'refunded_other_payment_stands';
                        v_accept := false;
                    ELSE
                        v_decision := 'refunded';
                        v_new_status := 'refunded';
                    END IF;
                END IF;
            END CASE;
        WHEN 'failed', 'expired' THEN
            CASE n.order_status
            WHEN 'paid' THEN
                IF apply_gateway_status.gross_amount IS NOT NULL
                   AND apply_gateway_status.gross_amount <> o.gross_amount THEN
                    v_decision := 'amount_mismatch';
                    v_flag := 'amount_mismatch';
                ELSE
                    v_decision := 'late_payment';
                    v_new_status := 'paid';
                END IF;
            WHEN 'refunded' THEN
                v_decision := 'refunded';
                v_new_status := 'refunded';
            WHEN 'pending' THEN
                v_decision := 'stale_ignored';
                v_accept := false;
            ELSE
                v_decision := 'noop';   -- released once already; re-run is a no-op
            END CASE;
        WHEN 'refunded' THEN
            IF n.order_status = 'paid' THEN
                v_decision := 'flagged';
                v_flag := 'paid_after_refund';
                v_accept := false;
            ELSIF n.order_status = 'refunded' THEN
                v_decision := 'noop';
            ELSE
                v_decision := 'stale_ignored';
                v_accept := false;
            END IF;
        END CASE;
    END IF;
    -- a notification is only a trigger: what would pay, fulfil, release,
    -- refund, reverse or flag waits for the Status API's answer (nothing is
    -- written; the caller asks Midtrans and applies that answer instead)
    IF apply_gateway_status.trigger_only
       AND v_decision NOT IN ('noop', 'stale_ignored', 'unknown_status') THEN
        RETURN jsonb_build_object('order_number', o.order_number, 'kind', o.kind,
                                  'previous_status', v_prev_status, 'new_status', v_prev_status,
                                  'decision', 'confirm', 'would_decide', v_decision,
                                  'effects', '[]'::jsonb);
    END IF;
    -- a fraud challenge resolved at Midtrans (accepted or denied) clears its flag
    v_clear_challenge := coalesce(o.review_reason = 'fraud_challenge' AND v_accept
                                  AND n.review_reason IS NULL AND v_new_status <> 'pending', false);
    -- gateway_transaction_id is the transaction the order's status rests on, and
    -- gateway_status / fraud_status describe it. It moves to another transaction
    -- only when that transaction's event changes the order's status (a late
    -- payment, a release); a no-op or a flag from another transaction (an older
    -- attempt expiring, a second payment being partly refunded) leaves it, so a
    -- later reversal of the paying transaction is still recognised as one. An
    -- event without a transaction_id (a local expiry, a manual call) never moves
    -- it: a later payment of the still-open transaction is a late payment.
    v_record := v_accept AND v_tx IS NOT NULL
                AND (o.gateway_transaction_id IS NULL OR v_same_tx OR v_new_status <> v_prev_status);
    UPDATE payments.orders AS x
       SET status = v_new_status,
           paid_at = CASE WHEN v_new_status = 'paid' AND v_prev_status <> 'paid'
                          THEN now() ELSE x.paid_at END,
           -- the amount received: on payment, and on an amount mismatch (so that
           -- resolve_review 'accept' keeps what was really paid)
           paid_amount = CASE WHEN (v_new_status = 'paid' AND v_prev_status <> 'paid')
                                   OR v_decision = 'amount_mismatch'
                              THEN coalesce(apply_gateway_status.gross_amount, x.gross_amount)
                              ELSE x.paid_amount END,
           gateway_status = CASE WHEN v_record THEN v_ts ELSE x.gateway_status END,
           gateway_transaction_id = CASE WHEN v_record THEN v_tx ELSE x.gateway_transaction_id END,
           fraud_status = CASE WHEN v_record THEN v_fs ELSE x.fraud_status END,
           gateway_event_at = CASE WHEN v_record THEN now() ELSE x.gateway_event_at END,
           gateway_checked_at = CASE WHEN apply_gateway_status.source IN ('sync', 'reconcile')
                                     THEN now() ELSE x.gateway_checked_at END,
           needs_review = v_flag IS NOT NULL OR (x.needs_review AND NOT v_clear_challenge),
           review_reason = CASE WHEN v_flag IS NOT NULL THEN v_flag
                                WHEN v_clear_challenge THEN NULL
                                ELSE x.review_reason END,
           updated_at = now()
     WHERE x.id = o.id;
    -- what Midtrans said about this transaction: facts, kept even when the
    -- order ignores the event (a duplicate payment, a refund of another one, an
    -- older attempt failing); only an event behind its own transaction is not
    IF v_tx IS NOT NULL AND n.recognized AND v_decision <> 'gateway_disagreement'
       AND coalesce(v_tx_rank, 0) <= payments.gateway_rank(v_ts) THEN
        INSERT INTO payments.gateway_transactions AS t (order_id, transaction_id, transaction_status,
                                                        fraud_status, rank)
        VALUES (o.id, v_tx, v_ts, v_fs, payments.gateway_rank(v_ts))
        ON CONFLICT (order_id, transaction_id) DO UPDATE
           SET transaction_status = excluded.transaction_status, fraud_status = excluded.fraud_status,
               rank = excluded.rank, updated_at = now()
         WHERE t.rank <= excluded.rank;
    END IF;
    -- the paying transaction was reversed / refunded but another one paid: the
    -- order is now paid by that one, and the duplicate-payment flag is moot
    IF v_remaining.transaction_id IS NOT NULL THEN
        UPDATE payments.orders AS x
           SET gateway_transaction_id = v_remaining.transaction_id,
               gateway_status = v_remaining.transaction_status,
               fraud_status = v_remaining.fraud_status,
               gateway_event_at = now(),
               needs_review = x.needs_review AND x.review_reason IS DISTINCT FROM 'duplicate_payment',
               review_reason = CASE WHEN x.review_reason = 'duplicate_payment' THEN NULL
                                    ELSE x.review_reason END,
               updated_at = now()
         WHERE x.id = o.id;
    END IF;
    -- An accepted event re-runs the side-effects of the resulting status; each is
    -- idempotent by marker, so a duplicate also heals anything still missing.
    -- A partial_refund / chargeback only flags the order (DESIGN §4: unchanged +
    -- needs_review): issuing tickets for a disputed payment, or replacing its
    -- review reason with the side-effect's own, is for people to decide.
    IF v_accept AND n.order_status IS NOT NULL THEN
        IF v_new_status = 'paid' THEN
            v_effect := CASE o.kind WHEN 'ticket' THEN payments.apply_ticket_payment(o.order_number)
                                    ELSE payments.apply_product_payment(o.order_number) END;
        ELSIF v_new_status IN ('failed', 'expired', 'refunded') THEN
            v_effect := CASE o.kind WHEN 'ticket' THEN payments.release_ticket_capacity(o.order_number)
                                    ELSE payments.release_product_stock(o.order_number) END;
        END IF;
        IF v_effect ->> 'effect' <> 'none' THEN
            v_effects := jsonb_build_array(v_effect);
        END IF;
        IF v_effect ->> 'effect' = 'review' THEN
            v_decision := v_decision || '_review';
        END IF;
    END IF;
    SELECT * INTO o FROM payments.orders AS x WHERE x.id = o.id;
    INSERT INTO payments.webhook_logs (source, event_type, order_number, transaction_id,
        transaction_status, fraud_status, status_code, gross_amount, signature_valid, outcome,
        detail, payload, run_id)
    VALUES (apply_gateway_status.source, 'gateway_status', o.order_number, v_tx, v_ts, v_fs,
        apply_gateway_status.status_code, apply_gateway_status.gross_amount,
        CASE WHEN apply_gateway_status.source = 'webhook' THEN true END,
        v_decision,
        jsonb_build_object('previous_status', v_prev_status, 'new_status', o.status,
                           'effects', v_effects, 'review_reason', o.review_reason,
                           'evidence', v_evidence),
        v_payload, apply_gateway_status.run_id)
    RETURNING id INTO v_log_id;
    RETURN jsonb_build_object(
        'order_number', o.order_number,
        'kind', o.kind,
        'previous_status', v_prev_status,
        'new_status', o.status,
        'decision', v_decision,
        'effects', v_effects,
        'needs_review', o.needs_review,
        'review_reason', o.review_reason,
        'log_id', v_log_id);
END
$$;
COMMENT ON FUNCTION payments.apply_gateway_status(order_number text, transaction_status text, fraud_status text, gross_amount numeric, transaction_id text, status_code text, source text, payload jsonb, run_id bigint, evidence text, trigger_only boolean) IS 'Single entry point for a Midtrans status from any source: check status_code, lock, decide, apply, log; PM001 unknown order, PM009 bad argument';
CREATE FUNCTION payments.apply_product_payment(order_number text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v_reacquire boolean;
    v_shortfall jsonb;
    v_confirmed integer := 0;
    v_code text := NULL;
BEGIN
    o := payments.lock_order(apply_product_payment.order_number, 'product');
    IF o.status <> 'paid' THEN
        RAISE EXCEPTION 'order % is %, not paid', o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    v_reacquire := o.stock_released_at IS NOT NULL;
    PERFORM 1 FROM payments.product_variants AS v
     WHERE v.id IN (SELECT i.variant_id FROM payments.product_order_items AS i WHERE i.order_id = o.id)
     ORDER BY v.id
       FOR UPDATE OF v;
    IF v_reacquire THEN
        SELECT jsonb_agg(jsonb_build_object('sku', v.sku, 'missing', i.quantity - i.finalized_quantity,
                                            'free', v.stock - v.reserved_stock - v.sold) ORDER BY v.id)
          INTO v_shortfall
          FROM payments.product_order_items AS i
          JOIN payments.product_variants AS v ON v.id = i.variant_id
         WHERE i.order_id = o.id
           AND i.quantity - i.finalized_quantity > v.stock - v.reserved_stock - v.sold;
        IF v_shortfall IS NOT NULL THEN
            UPDATE payments.orders
               SET needs_review = true, review_reason = 'paid_after_release', updated_at = now()
             WHERE id = o.id AND review_reason IS DISTINCT FROM 'paid_after_release';
            RETURN jsonb_build_object('effect', 'review', 'review_reason', 'paid_after_release',
                                      'shortfall', v_shortfall);
        END IF;
    END IF;
    UPDATE payments.product_variants AS v
       SET reserved_stock = v.reserved_stock - CASE WHEN v_reacquire THEN 0 ELSE m.missing END,
           sold = v.sold + m.missing,
           updated_at = now()
      FROM (SELECT i.variant_id, i.quantity - i.finalized_quantity AS missing
              FROM payments.product_order_items AS i
             WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity) AS m
     WHERE v.id = m.variant_id;
    UPDATE payments.product_order_items AS i
       SET finalized_quantity = i.quantity
     WHERE i.order_id = o.id AND i.finalized_quantity < i.quantity;
    GET DIAGNOSTICS v_confirmed = ROW_COUNT;
    IF o.pickup_code IS NULL THEN
        v_code := payments.new_pickup_code(o.id);
    END IF;
    IF v_confirmed > 0 OR v_code IS NOT NULL OR o.stock_confirmed_at IS NULL OR v_reacquire
       OR o.review_reason = 'paid_after_release' THEN
        UPDATE payments.orders
           SET stock_confirmed_at = CASE WHEN v_confirmed > 0 OR stock_confirmed_at IS NULL
                                         THEN now() ELSE stock_confirmed_at END,
               stock_released_at = NULL,
               needs_review = needs_review AND review_reason IS DISTINCT FROM 'paid_after_release',
               review_reason = CASE WHEN review_reason = 'paid_after_release' THEN NULL
                                    ELSE review_reason END,
               updated_at = now()
         WHERE id = o.id;
    END IF;
    RETURN jsonb_build_object(
        'effect', CASE WHEN v_confirmed > 0 OR v_code IS NOT NULL THEN 'stock_confirmed' ELSE 'none' END,
        'items_confirmed', v_confirmed,
        'pickup_code_issued', v_code IS NOT NULL,
        'reacquired', v_reacquire);
END
$$;
COMMENT ON FUNCTION payments.apply_product_payment(order_number text) IS 'Paid product order: pickup code when missing, confirm missing stock (idempotent); PM001, PM010, PM011';
CREATE FUNCTION payments.apply_status_not_found(order_number text, source text, expiry_grace interval DEFAULT NULL::interval, run_id bigint DEFAULT NULL::bigint) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
BEGIN
    PERFORM payments.require_source(apply_status_not_found.source);
    o := payments.lock_order(apply_status_not_found.order_number);
    IF o.status = 'pending' AND apply_status_not_found.expiry_grace IS NOT NULL
       AND o.expires_at < now() - apply_status_not_found.expiry_grace THEN
        -- a local decision: Midtrans sent no status, so none is claimed
        RETURN payments.apply_gateway_status(o.order_number, 'expire', NULL, NULL, NULL, NULL,
            apply_status_not_found.source,
            jsonb_build_object('reason', 'no transaction at Midtrans past expires_at + grace',
                               'expires_at', o.expires_at),
            apply_status_not_found.run_id, 'local');
    END IF;
    UPDATE payments.orders SET gateway_checked_at = now() WHERE id = o.id;
    PERFORM payments.log_event(apply_status_not_found.source, 'status_not_found', 'noop',
        o.order_number, jsonb_build_object('status', o.status, 'expires_at', o.expires_at),
        NULL, NULL, NULL, '404', apply_status_not_found.run_id);
    RETURN jsonb_build_object('order_number', o.order_number, 'kind', o.kind,
                              'previous_status', o.status, 'new_status', o.status,
                              'decision', 'not_found', 'effects', '[]'::jsonb,
                              'needs_review', o.needs_review, 'review_reason', o.review_reason);
END
$$;
COMMENT ON FUNCTION payments.apply_status_not_found(order_number text, source text, expiry_grace interval, run_id bigint) IS 'Midtrans has no transaction for the order: record the check, expire it when past expiry + grace';
CREATE FUNCTION payments.apply_ticket_payment(order_number text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
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
COMMENT ON FUNCTION payments.apply_ticket_payment(order_number text) IS 'Paid ticket order: issue missing tickets, finalize missing capacity (idempotent); PM001, PM010, PM011';
CREATE FUNCTION payments.check_invariants() RETURNS TABLE(invariant text, subject text, detail jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
    -- counters within bounds
    SELECT 'counter_bounds', 'slot ' || s.code,
           jsonb_build_object('capacity', s.capacity, 'reserved', s.reserved, 'sold', s.sold)
      FROM payments.ticket_slots AS s
     WHERE s.reserved < 0 OR s.sold < 0 OR s.reserved + s.sold > s.capacity
    UNION ALL
    SELECT 'counter_bounds', 'variant ' || v.sku,
           jsonb_build_object('stock', v.stock, 'reserved_stock', v.reserved_stock, 'sold', v.sold)
      FROM payments.product_variants AS v
     WHERE v.reserved_stock < 0 OR v.sold < 0 OR v.reserved_stock + v.sold > v.stock
    -- counters equal the sums implied by orders
    UNION ALL
    SELECT 'counter_drift', d.resource || ' ' || d.code, to_jsonb(d)
      FROM payments.counter_drift() AS d
    -- paid ticket order => active tickets per item = quantity, capacity finalized,
    -- unless under review (a late payment that found no capacity is flagged
    -- paid_after_release instead, and may be flagged again, e.g. for a chargeback)
    UNION ALL
    SELECT 'paid_ticket_order_fulfilled', 'order ' || o.order_number,
           jsonb_build_object('item_id', i.id, 'quantity', i.quantity,
                              'finalized_quantity', i.finalized_quantity,
                              'active_tickets', t.active,
                              'capacity_released_at', o.capacity_released_at,
                              'tickets_issued_at', o.tickets_issued_at)
      FROM payments.orders AS o
      JOIN payments.ticket_order_items AS i ON i.order_id = o.id
      CROSS JOIN LATERAL (SELECT count(*) AS active FROM payments.tickets AS x
                           WHERE x.order_item_id = i.id AND x.status = 'active') AS t
     WHERE o.kind = 'ticket' AND o.status = 'paid' AND NOT o.needs_review
       AND (t.active <> i.quantity OR i.finalized_quantity <> i.quantity
            OR o.capacity_released_at IS NOT NULL OR o.tickets_issued_at IS NULL)
    -- not paid => no active tickets
    UNION ALL
    SELECT 'unpaid_order_has_no_tickets', 'order ' || o.order_number,
           jsonb_build_object('status', o.status, 'active_tickets', count(*))
      FROM payments.orders AS o
      JOIN payments.ticket_order_items AS i ON i.order_id = o.id
      JOIN payments.tickets AS t ON t.order_item_id = i.id AND t.status = 'active'
     WHERE o.kind = 'ticket' AND o.status <> 'paid'
     GROUP BY o.order_number, o.status
    -- failed / expired / refunded => holds no capacity or stock
    UNION ALL
    SELECT 'released_order_holds_nothing', 'order ' || o.order_number,
           jsonb_build_object('status', o.status,
                              'released_at', coalesce(o.capacity_released_at, o.stock_released_at),
                              'finalized_quantity',
                              (SELECT coalesce(sum(i.finalized_quantity), 0)
                                 FROM payments.ticket_order_items AS i WHERE i.order_id = o.id)
                              + (SELECT coalesce(sum(i.finalized_quantity), 0)
                                   FROM payments.product_order_items AS i WHERE i.order_id = o.id))
      FROM payments.orders AS o
     WHERE o.status IN ('failed', 'expired', 'refunded')
       AND (CASE o.kind WHEN 'ticket' THEN o.capacity_released_at ELSE o.stock_released_at END IS NULL
            OR EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0)
            OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0))
    -- pending => holds its reservation and nothing else
    UNION ALL
    SELECT 'pending_order_holds_reservation', 'order ' || o.order_number,
           jsonb_build_object('capacity_released_at', o.capacity_released_at,
                              'stock_released_at', o.stock_released_at)
      FROM payments.orders AS o
     WHERE o.status = 'pending'
       AND (o.capacity_released_at IS NOT NULL OR o.stock_released_at IS NOT NULL
            OR EXISTS (SELECT 1 FROM payments.ticket_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0)
            OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity > 0))
    -- paid product order => pickup code and stock confirmed, unless under review
    UNION ALL
    SELECT 'paid_product_order_fulfilled', 'order ' || o.order_number,
           jsonb_build_object('pickup_code', o.pickup_code IS NOT NULL,
                              'stock_confirmed_at', o.stock_confirmed_at,
                              'stock_released_at', o.stock_released_at)
      FROM payments.orders AS o
     WHERE o.kind = 'product' AND o.status = 'paid' AND NOT o.needs_review
       AND (o.pickup_code IS NULL OR o.stock_confirmed_at IS NULL OR o.stock_released_at IS NOT NULL
            OR EXISTS (SELECT 1 FROM payments.product_order_items AS i
                        WHERE i.order_id = o.id AND i.finalized_quantity <> i.quantity))
$$;
COMMENT ON FUNCTION payments.check_invariants() IS 'DESIGN §9 invariants: one row per violation, zero rows = healthy';
CREATE FUNCTION payments.check_items_total(gross_amount numeric, total numeric, priced integer, item_count integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    IF check_items_total.priced = check_items_total.item_count
       AND check_items_total.total <> check_items_total.gross_amount THEN
        RAISE EXCEPTION 'gross_amount % does not equal the sum of the items, %',
            check_items_total.gross_amount, check_items_total.total
            USING ERRCODE = 'PM009';
    END IF;
END
$$;
COMMENT ON FUNCTION payments.check_items_total(gross_amount numeric, total numeric, priced integer, item_count integer) IS 'Raises PM009 when all items are priced and their sum differs from gross_amount';
CREATE FUNCTION payments.counter_drift() RETURNS TABLE(resource text, resource_id bigint, code text, reserved_actual integer, reserved_expected integer, sold_actual integer, sold_expected integer)
    LANGUAGE sql STABLE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
    SELECT 'ticket_slot', s.id, s.code,
           s.reserved, coalesce(e.reserved, 0)::integer, s.sold, coalesce(e.sold, 0)::integer
      FROM payments.ticket_slots AS s
      LEFT JOIN (SELECT i.slot_id,
                        sum(CASE WHEN o.capacity_released_at IS NULL
                                 THEN i.quantity - i.finalized_quantity ELSE 0 END) AS reserved,
                        sum(i.finalized_quantity) AS sold
                   FROM payments.ticket_order_items AS i
                   JOIN payments.orders AS o ON o.id = i.order_id
                  GROUP BY i.slot_id) AS e ON e.slot_id = s.id
     WHERE s.reserved <> coalesce(e.reserved, 0) OR s.sold <> coalesce(e.sold, 0)
    UNION ALL
    SELECT 'product_variant', v.id, v.sku,
           v.reserved_stock, coalesce(e.reserved, 0)::integer, v.sold, coalesce(e.sold, 0)::integer
      FROM payments.product_variants AS v
      LEFT JOIN (SELECT i.variant_id,
                        sum(CASE WHEN o.stock_released_at IS NULL
                                 THEN i.quantity - i.finalized_quantity ELSE 0 END) AS reserved,
                        sum(i.finalized_quantity) AS sold
                   FROM payments.product_order_items AS i
                   JOIN payments.orders AS o ON o.id = i.order_id
                  GROUP BY i.variant_id) AS e ON e.variant_id = v.id
     WHERE v.reserved_stock <> coalesce(e.reserved, 0) OR v.sold <> coalesce(e.sold, 0)
$$;
COMMENT ON FUNCTION payments.counter_drift() IS 'Slots / variants whose reserved or sold counter differs from what their orders imply';
CREATE FUNCTION payments.create_product_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text DEFAULT 'IDR'::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_order_id bigint;
    v_variant_ids bigint[];
    v_quantities integer[];
    v_prices numeric[];
    v_total numeric;
    v_priced integer;
    v_free integer;
BEGIN
    PERFORM payments.validate_order_header(create_product_order.order_number,
        create_product_order.expires_at, create_product_order.gross_amount,
        create_product_order.currency);
    SELECT array_agg(coalesce(s.id, -1) ORDER BY s.id), array_agg(p.quantity ORDER BY s.id),
           array_agg(p.unit_price ORDER BY s.id),
           sum(p.quantity * p.unit_price), count(p.unit_price)
      INTO v_variant_ids, v_quantities, v_prices, v_total, v_priced
      FROM payments.parse_order_items(create_product_order.items, 'sku', 'variant_id') AS p
      LEFT JOIN payments.product_variants AS s
             ON s.sku = p.ref_code OR s.id = p.ref_id;
    IF -1 = ANY (v_variant_ids) THEN
        RAISE EXCEPTION 'unknown product variant in items %', left(create_product_order.items::text, 200)
            USING ERRCODE = 'PM006';
    END IF;
    IF cardinality(v_variant_ids) <> (SELECT count(DISTINCT x) FROM unnest(v_variant_ids) AS x) THEN
        RAISE EXCEPTION 'a variant appears more than once in items' USING ERRCODE = 'PM008';
    END IF;
    PERFORM payments.check_items_total(create_product_order.gross_amount, v_total, v_priced,
                                       cardinality(v_variant_ids));
    -- orders first (the unique index serialises duplicates), then variants by id
    INSERT INTO payments.orders (order_number, kind, gross_amount, currency, expires_at)
    VALUES (create_product_order.order_number, 'product', create_product_order.gross_amount,
            create_product_order.currency, create_product_order.expires_at)
    ON CONFLICT (order_number) DO NOTHING
    RETURNING id INTO v_order_id;
    IF v_order_id IS NULL THEN
        RAISE EXCEPTION 'order % already exists', create_product_order.order_number
            USING ERRCODE = 'PM002';
    END IF;
    FOR i IN 1 .. cardinality(v_variant_ids) LOOP
        UPDATE payments.product_variants AS s
           SET reserved_stock = s.reserved_stock + v_quantities[i], updated_at = now()
         WHERE s.id = v_variant_ids[i]
           AND s.stock - s.reserved_stock - s.sold >= v_quantities[i];
        IF NOT FOUND THEN
            SELECT s.stock - s.reserved_stock - s.sold INTO v_free
              FROM payments.product_variants AS s WHERE s.id = v_variant_ids[i];
            RAISE EXCEPTION 'insufficient stock of %: % requested, % free',
                (SELECT s.sku FROM payments.product_variants AS s WHERE s.id = v_variant_ids[i]),
                v_quantities[i], v_free
                USING ERRCODE = 'PM004';
        END IF;
    END LOOP;
    INSERT INTO payments.product_order_items (order_id, variant_id, quantity, unit_price)
    SELECT v_order_id, x.variant_id, x.quantity, x.unit_price
      FROM unnest(v_variant_ids, v_quantities, v_prices) AS x (variant_id, quantity, unit_price);
    RETURN jsonb_build_object(
        'order_id', v_order_id,
        'order_number', create_product_order.order_number,
        'kind', 'product',
        'status', 'pending',
        'gross_amount', create_product_order.gross_amount,
        'expires_at', create_product_order.expires_at);
END
$$;
COMMENT ON FUNCTION payments.create_product_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text) IS 'Creates a pending product order holding stock; PM002 duplicate, PM004 no stock, PM006 unknown variant, PM007 bad quantity, PM008 bad items, PM009 bad argument';
CREATE FUNCTION payments.create_ticket_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text DEFAULT 'IDR'::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_order_id bigint;
    v_slot_ids bigint[];
    v_quantities integer[];
    v_prices numeric[];
    v_total numeric;
    v_priced integer;
    v_free integer;
BEGIN
    PERFORM payments.validate_order_header(create_ticket_order.order_number,
        create_ticket_order.expires_at, create_ticket_order.gross_amount,
        create_ticket_order.currency);
    SELECT array_agg(coalesce(s.id, -1) ORDER BY s.id), array_agg(p.quantity ORDER BY s.id),
           array_agg(p.unit_price ORDER BY s.id),
           sum(p.quantity * p.unit_price), count(p.unit_price)
      INTO v_slot_ids, v_quantities, v_prices, v_total, v_priced
      FROM payments.parse_order_items(create_ticket_order.items, 'slot', 'slot_id') AS p
      LEFT JOIN payments.ticket_slots AS s
             ON s.code = p.ref_code OR s.id = p.ref_id;
    IF -1 = ANY (v_slot_ids) THEN
        RAISE EXCEPTION 'unknown ticket slot in items %', left(create_ticket_order.items::text, 200)
            USING ERRCODE = 'PM005';
    END IF;
    IF cardinality(v_slot_ids) <> (SELECT count(DISTINCT x) FROM unnest(v_slot_ids) AS x) THEN
        RAISE EXCEPTION 'a slot appears more than once in items' USING ERRCODE = 'PM008';
    END IF;
    PERFORM payments.check_items_total(create_ticket_order.gross_amount, v_total, v_priced,
                                       cardinality(v_slot_ids));
    -- orders first (the unique index serialises duplicates), then slots by id
    INSERT INTO payments.orders (order_number, kind, gross_amount, currency, expires_at)
    VALUES (create_ticket_order.order_number, 'ticket', create_ticket_order.gross_amount,
            create_ticket_order.currency, create_ticket_order.expires_at)
    ON CONFLICT (order_number) DO NOTHING
    RETURNING id INTO v_order_id;
    IF v_order_id IS NULL THEN
        RAISE EXCEPTION 'order % already exists', create_ticket_order.order_number
            USING ERRCODE = 'PM002';
    END IF;
    FOR i IN 1 .. cardinality(v_slot_ids) LOOP
        UPDATE payments.ticket_slots AS s
           SET reserved = s.reserved + v_quantities[i], updated_at = now()
         WHERE s.id = v_slot_ids[i]
           AND s.capacity - s.reserved - s.sold >= v_quantities[i];
        IF NOT FOUND THEN
            SELECT s.capacity - s.reserved - s.sold INTO v_free
              FROM payments.ticket_slots AS s WHERE s.id = v_slot_ids[i];
            RAISE EXCEPTION 'insufficient capacity in slot %: % requested, % free',
                (SELECT s.code FROM payments.ticket_slots AS s WHERE s.id = v_slot_ids[i]),
                v_quantities[i], v_free
                USING ERRCODE = 'PM003';
        END IF;
    END LOOP;
    INSERT INTO payments.ticket_order_items (order_id, slot_id, quantity, unit_price)
    SELECT v_order_id, x.slot_id, x.quantity, x.unit_price
      FROM unnest(v_slot_ids, v_quantities, v_prices) AS x (slot_id, quantity, unit_price);
    RETURN jsonb_build_object(
        'order_id', v_order_id,
        'order_number', create_ticket_order.order_number,
        'kind', 'ticket',
        'status', 'pending',
        'gross_amount', create_ticket_order.gross_amount,
        'expires_at', create_ticket_order.expires_at);
END
$$;
COMMENT ON FUNCTION payments.create_ticket_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text) IS 'Creates a pending ticket order holding capacity; PM002 duplicate, PM003 no capacity, PM005 unknown slot, PM007 bad quantity, PM008 bad items, PM009 bad argument';
CREATE FUNCTION payments.find_mismatches(max_rows integer DEFAULT 100, expiry_grace interval DEFAULT '00:15:00'::interval) RETURNS TABLE(check_name text, order_number text, kind text, status text, detail jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM payments.require_row_limit(find_mismatches.max_rows, 'max_rows');
    RETURN QUERY
    (SELECT 'paid_ticket_unfulfilled'::text, o.order_number, o.kind, o.status,
            jsonb_build_object('tickets_issued_at', o.tickets_issued_at,
                               'capacity_released_at', o.capacity_released_at)
       FROM payments.orders AS o
      WHERE o.kind = 'ticket' AND o.status = 'paid' AND NOT o.needs_review
        AND (o.tickets_issued_at IS NULL OR o.capacity_released_at IS NOT NULL)
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'ticket_capacity_unreleased', o.order_number, o.kind, o.status, '{}'::jsonb
       FROM payments.orders AS o
      WHERE o.kind = 'ticket' AND o.status IN ('failed', 'expired', 'refunded')
        AND o.capacity_released_at IS NULL
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'paid_product_unfulfilled', o.order_number, o.kind, o.status,
            jsonb_build_object('pickup_code', o.pickup_code IS NOT NULL,
                               'stock_confirmed_at', o.stock_confirmed_at,
                               'stock_released_at', o.stock_released_at)
       FROM payments.orders AS o
      WHERE o.kind = 'product' AND o.status = 'paid' AND NOT o.needs_review
        AND (o.pickup_code IS NULL OR o.stock_confirmed_at IS NULL OR o.stock_released_at IS NOT NULL)
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'product_stock_unreleased', o.order_number, o.kind, o.status, '{}'::jsonb
       FROM payments.orders AS o
      WHERE o.kind = 'product' AND o.status IN ('failed', 'expired', 'refunded')
        AND o.stock_released_at IS NULL
      ORDER BY o.id LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'needs_gateway_status', o.order_number, o.kind, o.status,
            jsonb_build_object('expires_at', o.expires_at,
                               'gateway_checked_at', o.gateway_checked_at)
       FROM payments.orders AS o
      WHERE o.status = 'pending' AND o.expires_at < now() - find_mismatches.expiry_grace
      ORDER BY o.expires_at LIMIT find_mismatches.max_rows)
    UNION ALL
    (SELECT 'counter_drift', d.code, d.resource, NULL::text, to_jsonb(d)
       FROM payments.counter_drift() AS d
      LIMIT find_mismatches.max_rows);
END
$$;
COMMENT ON FUNCTION payments.find_mismatches(max_rows integer, expiry_grace interval) IS 'DESIGN §7 checks 1-6: one row per order (or counter) needing attention, up to max_rows per check';
CREATE TABLE payments.runs (
    id bigint NOT NULL,
    kind text NOT NULL,
    source text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    totals jsonb DEFAULT '{}'::jsonb NOT NULL,
    error text,
    CONSTRAINT runs_kind_check CHECK ((kind = ANY (ARRAY['sync'::text, 'reconcile'::text]))),
    CONSTRAINT runs_source_check CHECK ((source = ANY (ARRAY['sync'::text, 'reconcile'::text, 'cron'::text, 'manual'::text])))
);
CREATE FUNCTION payments.finish_run(run_id bigint, totals jsonb, error text DEFAULT NULL::text) RETURNS payments.runs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    r payments.runs;
BEGIN
    UPDATE payments.runs AS x
       SET finished_at = clock_timestamp(),
           totals = coalesce(finish_run.totals, '{}'::jsonb),
           error = left(finish_run.error, 2000)
     WHERE x.id = finish_run.run_id AND x.finished_at IS NULL
    RETURNING * INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist or is already finished', finish_run.run_id
            USING ERRCODE = 'PM009';
    END IF;
    INSERT INTO payments.webhook_logs (source, event_type, outcome, detail, run_id)
    VALUES (r.source, r.kind || '_run', CASE WHEN r.error IS NULL THEN 'ok' ELSE 'error' END,
            jsonb_build_object('totals', r.totals, 'error', r.error,
                               'started_at', r.started_at, 'finished_at', r.finished_at),
            r.id);
    RETURN r;
END
$$;
COMMENT ON FUNCTION payments.finish_run(run_id bigint, totals jsonb, error text) IS 'Closes a run with its totals (and error) and logs a sync_run / reconcile_run event; PM009 unknown run';
CREATE FUNCTION payments.gateway_rank(transaction_status text) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
BEGIN
    RETURN CASE lower(btrim(gateway_rank.transaction_status))
        WHEN 'pending' THEN 1 WHEN 'authorize' THEN 1
        WHEN 'capture' THEN 2 WHEN 'settlement' THEN 2
        WHEN 'deny' THEN 3 WHEN 'cancel' THEN 3 WHEN 'expire' THEN 3 WHEN 'failure' THEN 3
        WHEN 'refund' THEN 4 WHEN 'partial_refund' THEN 4
        WHEN 'chargeback' THEN 4 WHEN 'partial_chargeback' THEN 4
        ELSE 0
    END;
END
$$;
COMMENT ON FUNCTION payments.gateway_rank(transaction_status text) IS 'Order of a Midtrans status within one transaction; lower rank for the same transaction = stale';
CREATE FUNCTION payments.last_runs() RETURNS TABLE(kind text, run_id bigint, finished_at timestamp with time zone, age_seconds double precision, totals jsonb, error text, last_ok_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
    SELECT k.kind, r.id, r.finished_at, extract(epoch FROM now() - r.finished_at)::double precision,
           r.totals, r.error,
           (SELECT max(ok.finished_at) FROM payments.runs AS ok
             WHERE ok.kind = k.kind AND ok.error IS NULL AND ok.finished_at IS NOT NULL)
      FROM (VALUES ('sync'), ('reconcile')) AS k (kind)
      LEFT JOIN LATERAL (SELECT * FROM payments.runs AS x
                          WHERE x.kind = k.kind AND x.finished_at IS NOT NULL
                          ORDER BY x.started_at DESC LIMIT 1) AS r ON true
$$;
COMMENT ON FUNCTION payments.last_runs() IS 'Latest finished sync / reconcile run with totals, and when the last successful one finished';
CREATE TABLE payments.orders (
    id bigint NOT NULL,
    order_number text NOT NULL,
    kind text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    gross_amount numeric(14,2) NOT NULL,
    currency text DEFAULT 'IDR'::text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    gateway_status text,
    gateway_transaction_id text,
    fraud_status text,
    gateway_event_at timestamp with time zone,
    gateway_checked_at timestamp with time zone,
    paid_amount numeric(14,2),
    paid_at timestamp with time zone,
    needs_review boolean DEFAULT false NOT NULL,
    review_reason text,
    tickets_issued_at timestamp with time zone,
    capacity_released_at timestamp with time zone,
    pickup_code text,
    stock_confirmed_at timestamp with time zone,
    stock_released_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT orders_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT orders_gross_amount_check CHECK ((gross_amount > (0)::numeric)),
    CONSTRAINT orders_kind_check CHECK ((kind = ANY (ARRAY['ticket'::text, 'product'::text]))),
    CONSTRAINT orders_order_number_check CHECK ((order_number ~ '^[A-Za-z0-9._~-]{1,50}$'::text)),
    CONSTRAINT orders_order_number_not_dot_segment CHECK ((order_number <> ALL (ARRAY['.'::text, '..'::text]))),
    CONSTRAINT orders_product_markers_check CHECK (((kind = 'product'::text) OR ((pickup_code IS NULL) AND (stock_confirmed_at IS NULL) AND (stock_released_at IS NULL)))),
    CONSTRAINT orders_review_reason_check CHECK ((needs_review = (review_reason IS NOT NULL))),
    CONSTRAINT orders_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'paid'::text, 'failed'::text, 'expired'::text, 'refunded'::text]))),
    CONSTRAINT orders_ticket_markers_check CHECK (((kind = 'ticket'::text) OR ((tickets_issued_at IS NULL) AND (capacity_released_at IS NULL))))
);
CREATE FUNCTION payments.lock_order(order_number text, kind text DEFAULT NULL::text) RETURNS payments.orders
    LANGUAGE plpgsql
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
BEGIN
    SELECT * INTO o FROM payments.orders AS x
     WHERE x.order_number = lock_order.order_number
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown order %', quote_nullable(left(lock_order.order_number, 60))
            USING ERRCODE = 'PM001';
    END IF;
    IF lock_order.kind IS NOT NULL AND o.kind <> lock_order.kind THEN
        RAISE EXCEPTION 'order % is a % order, not a % order', o.order_number, o.kind, lock_order.kind
            USING ERRCODE = 'PM010';
    END IF;
    RETURN o;
END
$$;
COMMENT ON FUNCTION payments.lock_order(order_number text, kind text) IS 'Locks an order row FOR UPDATE and returns it; PM001 unknown order, PM010 wrong kind';
CREATE FUNCTION payments.log_event(source text, event_type text, outcome text, order_number text DEFAULT NULL::text, detail jsonb DEFAULT '{}'::jsonb, payload jsonb DEFAULT NULL::jsonb, signature_valid boolean DEFAULT NULL::boolean, transaction_status text DEFAULT NULL::text, status_code text DEFAULT NULL::text, run_id bigint DEFAULT NULL::bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
BEGIN
    PERFORM payments.require_source(log_event.source);
    IF coalesce(log_event.event_type, '') = '' OR coalesce(log_event.outcome, '') = '' THEN
        RAISE EXCEPTION 'event_type and outcome are required' USING ERRCODE = 'PM009';
    END IF;
    INSERT INTO payments.webhook_logs (source, event_type, order_number, transaction_status,
        status_code, signature_valid, outcome, detail, payload, run_id)
    VALUES (log_event.source, left(log_event.event_type, 64), left(log_event.order_number, 100),
        left(log_event.transaction_status, 64), left(log_event.status_code, 16),
        log_event.signature_valid, left(log_event.outcome, 64),
        coalesce(payments.scrub_secrets(log_event.detail), '{}'::jsonb),
        payments.scrub_secrets(log_event.payload), log_event.run_id)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION payments.log_event(source text, event_type text, outcome text, order_number text, detail jsonb, payload jsonb, signature_valid boolean, transaction_status text, status_code text, run_id bigint) IS 'Appends a rejected or informational event to webhook_logs; PM009 bad argument';
CREATE FUNCTION payments.new_pickup_code(order_id bigint) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_raw text;
    v_code text;
BEGIN
    FOR attempt IN 1 .. 10 LOOP
        v_raw := payments.random_code(8);
        v_code := substr(v_raw, 1, 4) || '-' || substr(v_raw, 5, 4);
        BEGIN
            UPDATE payments.orders SET pickup_code = v_code, updated_at = now()
             WHERE id = new_pickup_code.order_id;
            RETURN v_code;
        EXCEPTION WHEN unique_violation THEN
            -- another order holds this code; draw again
        END;
    END LOOP;
    RAISE EXCEPTION 'could not draw a unique pickup code in 10 attempts' USING ERRCODE = 'PM013';
END
$$;
COMMENT ON FUNCTION payments.new_pickup_code(order_id bigint) IS 'Sets a unique 8-character pickup code (XXXX-XXXX) on an order; PM013 after 10 collisions';
CREATE FUNCTION payments.normalize_midtrans_status(transaction_status text, fraud_status text DEFAULT NULL::text) RETURNS payments.normalized_status
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
DECLARE
    ts text := lower(btrim(normalize_midtrans_status.transaction_status));
    fs text := nullif(lower(btrim(normalize_midtrans_status.fraud_status)), '');
    known boolean;
BEGIN
    known := coalesce(
        CASE WHEN ts IN ('settlement', 'capture')
             THEN fs IS NULL OR fs IN ('accept', 'challenge', 'deny')
             ELSE ts IN ('pending', 'authorize', 'deny', 'cancel', 'failure', 'expire',
                         'refund', 'partial_refund', 'chargeback', 'partial_chargeback')
        END, false);
    -- (order_status, review_reason, recognized); order_status NULL = unchanged
    RETURN ROW(
        CASE WHEN NOT known THEN NULL
             WHEN ts IN ('settlement', 'capture') THEN
                 CASE fs WHEN 'challenge' THEN 'pending' WHEN 'deny' THEN 'failed' ELSE 'paid' END
             WHEN ts IN ('pending', 'authorize') THEN 'pending'
             WHEN ts IN ('deny', 'cancel', 'failure') THEN 'failed'
             WHEN ts = 'expire' THEN 'expired'
             WHEN ts = 'refund' THEN 'refunded' END,
        CASE WHEN NOT known THEN NULL
             WHEN ts IN ('settlement', 'capture') AND fs = 'challenge' THEN 'fraud_challenge'
             WHEN ts IN ('partial_refund', 'chargeback', 'partial_chargeback') THEN ts END,
        known)::payments.normalized_status;
END
$$;
COMMENT ON FUNCTION payments.normalize_midtrans_status(transaction_status text, fraud_status text) IS 'DESIGN §4: Midtrans transaction_status + fraud_status -> (order_status, review_reason, recognized)';
CREATE FUNCTION payments.order_summary(order_number text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
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
COMMENT ON FUNCTION payments.order_summary(order_number text) IS 'An order with its items and ticket counts as jsonb; PM001';
CREATE FUNCTION payments.order_timeline(order_number text) RETURNS TABLE(at timestamp with time zone, source text, event_type text, transaction_status text, fraud_status text, transaction_id text, outcome text, detail jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
    SELECT l.created_at, l.source, l.event_type, l.transaction_status, l.fraud_status,
           l.transaction_id, l.outcome, l.detail
      FROM payments.webhook_logs AS l
     WHERE l.order_number = order_timeline.order_number
     ORDER BY l.id
$$;
COMMENT ON FUNCTION payments.order_timeline(order_number text) IS 'Every webhook_logs entry of one order, oldest first';
CREATE FUNCTION payments.orders_due_for_sync(min_age interval DEFAULT '00:02:00'::interval, recheck_after interval DEFAULT '00:05:00'::interval, max_rows integer DEFAULT 200) RETURNS TABLE(order_number text, expires_at timestamp with time zone, gateway_checked_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM payments.require_row_limit(orders_due_for_sync.max_rows, 'max_rows');
    RETURN QUERY
    SELECT o.order_number, o.expires_at, o.gateway_checked_at
      FROM payments.orders AS o
     WHERE o.status = 'pending'
       AND o.created_at <= now() - orders_due_for_sync.min_age
       AND (o.gateway_checked_at IS NULL
            OR o.gateway_checked_at <= now() - orders_due_for_sync.recheck_after
            OR (o.expires_at <= now() AND o.gateway_checked_at <= o.expires_at))
     ORDER BY o.gateway_checked_at NULLS FIRST, o.created_at
     LIMIT orders_due_for_sync.max_rows;
END
$$;
COMMENT ON FUNCTION payments.orders_due_for_sync(min_age interval, recheck_after interval, max_rows integer) IS 'Pending orders the sync should ask the Midtrans Status API about, least recently checked first';
CREATE FUNCTION payments.orders_past_expiry(expiry_grace interval DEFAULT '00:15:00'::interval, max_rows integer DEFAULT 200) RETURNS TABLE(order_number text, expires_at timestamp with time zone, needs_review boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM payments.require_row_limit(orders_past_expiry.max_rows, 'max_rows');
    RETURN QUERY
    SELECT o.order_number, o.expires_at, o.needs_review
      FROM payments.orders AS o
     WHERE o.status = 'pending' AND o.expires_at < now() - orders_past_expiry.expiry_grace
     ORDER BY o.expires_at
     LIMIT orders_past_expiry.max_rows;
END
$$;
COMMENT ON FUNCTION payments.orders_past_expiry(expiry_grace interval, max_rows integer) IS 'DESIGN §7 check 5: pending orders past expires_at + grace, oldest first';
CREATE TABLE payments.gateway_transactions (
    order_id bigint NOT NULL,
    transaction_id text NOT NULL,
    transaction_status text NOT NULL,
    fraud_status text,
    rank integer NOT NULL,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE FUNCTION payments.other_paid_transaction(order_id bigint, transaction_id text) RETURNS payments.gateway_transactions
    LANGUAGE sql STABLE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
    SELECT t.*
      FROM payments.gateway_transactions AS t
     WHERE t.order_id = other_paid_transaction.order_id
       AND t.transaction_id <> other_paid_transaction.transaction_id
       AND t.transaction_status IN ('capture', 'settlement')
       AND coalesce(t.fraud_status, 'accept') = 'accept'
     ORDER BY t.updated_at DESC
     LIMIT 1
$$;
COMMENT ON FUNCTION payments.other_paid_transaction(order_id bigint, transaction_id text) IS 'Another transaction of the order that is still a completed payment, or NULLs';
CREATE FUNCTION payments.parse_order_items(items jsonb, code_key text, id_key text) RETURNS TABLE(ref_code text, ref_id bigint, quantity integer, unit_price numeric)
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'payments', 'pg_temp'
    AS $_$
#variable_conflict use_column
DECLARE
    item jsonb;
    item_no integer := 0;
    qty jsonb;
    price jsonb;
BEGIN
    IF parse_order_items.items IS NULL OR jsonb_typeof(parse_order_items.items) <> 'array'
       OR jsonb_array_length(parse_order_items.items) = 0 THEN
        RAISE EXCEPTION 'items must be a non-empty JSON array' USING ERRCODE = 'PM008';
    END IF;
    IF jsonb_array_length(parse_order_items.items) > 50 THEN
        RAISE EXCEPTION 'an order holds at most 50 items, got %',
            jsonb_array_length(parse_order_items.items)
            USING ERRCODE = 'PM008';
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(parse_order_items.items) LOOP
        item_no := item_no + 1;
        IF jsonb_typeof(item) <> 'object' THEN
            RAISE EXCEPTION 'item % must be a JSON object', item_no USING ERRCODE = 'PM008';
        END IF;
        ref_code := NULL;
        ref_id := NULL;
        IF jsonb_typeof(item -> code_key) = 'string' THEN
            ref_code := item ->> code_key;
        ELSIF jsonb_typeof(item -> id_key) = 'number'
              AND (item ->> id_key) ~ '^[0-9]{1,18}$' THEN
            ref_id := (item ->> id_key)::bigint;
        ELSE
            RAISE EXCEPTION 'item % needs "%" (string) or "%" (integer)', item_no, code_key, id_key
                USING ERRCODE = 'PM008';
        END IF;
        qty := item -> 'quantity';
        IF qty IS NULL OR jsonb_typeof(qty) <> 'number' OR (qty #>> '{}') !~ '^[0-9]{1,9}$'
           OR (qty #>> '{}')::integer NOT BETWEEN 1 AND 100 THEN
            RAISE EXCEPTION 'item % quantity must be an integer between 1 and 100, got %',
                item_no, coalesce(left(qty::text, 40), 'nothing')
                USING ERRCODE = 'PM007';
        END IF;
        quantity := (qty #>> '{}')::integer;
        price := item -> 'unit_price';
        unit_price := NULL;
        IF price IS NOT NULL AND jsonb_typeof(price) <> 'null' THEN
            -- at most 2 decimals, like gross_amount: the column would round it
            -- silently and the stored prices would no longer add up
            IF jsonb_typeof(price) <> 'number' OR (price #>> '{}')::numeric < 0
               OR (price #>> '{}')::numeric >= 1e12
               OR (price #>> '{}')::numeric <> round((price #>> '{}')::numeric, 2) THEN
                RAISE EXCEPTION 'item % unit_price must be a non-negative number with at most 2 decimals',
                    item_no
                    USING ERRCODE = 'PM008';
            END IF;
            unit_price := (price #>> '{}')::numeric;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$_$;
COMMENT ON FUNCTION payments.parse_order_items(items jsonb, code_key text, id_key text) IS 'Validates an items array (PM008 malformed, PM007 bad quantity) and returns its rows';
CREATE FUNCTION payments.random_code(n_chars integer) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    alphabet CONSTANT text := 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    random_bytes bytea := ''::bytea;
    uuid_bytes bytea;
    code text := '';
BEGIN
    IF random_code.n_chars IS NULL OR random_code.n_chars NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION 'code length must be between 1 and 64, got %', random_code.n_chars
            USING ERRCODE = 'PM009';
    END IF;
    WHILE octet_length(random_bytes) < random_code.n_chars LOOP
        uuid_bytes := decode(replace(pg_catalog.gen_random_uuid()::text, '-', ''), 'hex');
        -- bytes 7 and 9 carry the UUID version and variant bits: skip them
        random_bytes := random_bytes || substring(uuid_bytes FROM 1 FOR 6)
                                     || substring(uuid_bytes FROM 10 FOR 7);
    END LOOP;
    FOR i IN 0 .. random_code.n_chars - 1 LOOP
        -- 256 is a multiple of 32, so `% 32` is unbiased
        code := code || substr(alphabet, get_byte(random_bytes, i) % 32 + 1, 1);
    END LOOP;
    RETURN code;
END
$$;
COMMENT ON FUNCTION payments.random_code(n_chars integer) IS 'Random code over ABCDEFGHJKLMNPQRSTUVWXYZ23456789 from the CSPRNG behind gen_random_uuid()';
CREATE FUNCTION payments.reconcile_local(batch_size integer DEFAULT 500, source text DEFAULT 'reconcile'::text, run_id bigint DEFAULT NULL::bigint) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_run bigint;
    r record;
    v_totals jsonb;
    v_counts jsonb := jsonb_build_object(
        'reconcile_fix_ticket_issued', 0, 'reconcile_release_capacity', 0,
        'reconcile_fix_pickup_code', 0, 'reconcile_release_stock', 0);
    v_outcome text;
    v_repaired integer := 0;
    v_flagged integer := 0;
    v_errors integer := 0;
    v_found integer := 0;
    v_pending_due integer;
BEGIN
    PERFORM payments.require_row_limit(reconcile_local.batch_size, 'batch_size');
    IF reconcile_local.source IS NULL OR reconcile_local.source NOT IN ('reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'source must be reconcile, cron or manual, got %',
            quote_nullable(reconcile_local.source) USING ERRCODE = 'PM009';
    END IF;
    v_run := coalesce(reconcile_local.run_id, payments.start_run('reconcile', reconcile_local.source));
    -- one query per check, each matching its partial index exactly (an OR of the
    -- four predicates is estimated at half the table and walks orders_pkey)
    FOR r IN
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_fix_ticket_issued'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'ticket' AND o.status = 'paid' AND NOT o.needs_review
                   AND (o.tickets_issued_at IS NULL OR o.capacity_released_at IS NOT NULL)
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
        UNION ALL
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_release_capacity'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'ticket' AND o.status IN ('failed', 'expired', 'refunded')
                   AND o.capacity_released_at IS NULL
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
        UNION ALL
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_fix_pickup_code'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'product' AND o.status = 'paid' AND NOT o.needs_review
                   AND (o.pickup_code IS NULL OR o.stock_confirmed_at IS NULL
                        OR o.stock_released_at IS NOT NULL)
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
        UNION ALL
        SELECT c.order_number, c.event_type
          FROM (SELECT o.order_number, 'reconcile_release_stock'::text AS event_type
                  FROM payments.orders AS o
                 WHERE o.kind = 'product' AND o.status IN ('failed', 'expired', 'refunded')
                   AND o.stock_released_at IS NULL
                 ORDER BY o.id LIMIT reconcile_local.batch_size
                   FOR UPDATE OF o SKIP LOCKED) AS c
         LIMIT reconcile_local.batch_size
    LOOP
        v_found := v_found + 1;
        v_outcome := payments.reconcile_repair(r.order_number, r.event_type, reconcile_local.source, v_run);
        IF v_outcome = 'repaired' THEN
            v_repaired := v_repaired + 1;
            v_counts := jsonb_set(v_counts, ARRAY[r.event_type], to_jsonb((v_counts ->> r.event_type)::integer + 1));
        ELSIF v_outcome = 'flagged' THEN
            v_flagged := v_flagged + 1;
        ELSE
            v_errors := v_errors + 1;
        END IF;
    END LOOP;
    -- check 5 is the runner's (it needs Midtrans); count what waits for it
    SELECT count(*) INTO v_pending_due
      FROM (SELECT 1 FROM payments.orders AS o
             WHERE o.status = 'pending' AND o.expires_at < now()
             ORDER BY o.expires_at   -- walks orders_pending_expires_idx, not the table
             LIMIT reconcile_local.batch_size) AS due;
    v_totals := jsonb_build_object('run_id', v_run, 'mismatches_found', v_found,
                                   'repaired', v_repaired, 'flagged', v_flagged, 'errors', v_errors,
                                   'pending_past_expiry', v_pending_due)
                || v_counts;
    IF reconcile_local.run_id IS NULL THEN
        PERFORM payments.finish_run(v_run, v_totals);
    END IF;
    RETURN v_totals;
END
$$;
COMMENT ON FUNCTION payments.reconcile_local(batch_size integer, source text, run_id bigint) IS 'DESIGN §7 checks 1-4: repair in batches (SKIP LOCKED), log each repair, record totals in runs';
CREATE FUNCTION payments.reconcile_repair(order_number text, event_type text, source text, run_id bigint) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_effect jsonb;
    v_outcome text;
    v_state text;
    v_message text;
BEGIN
    BEGIN
        v_effect := CASE reconcile_repair.event_type
            WHEN 'reconcile_fix_ticket_issued' THEN payments.apply_ticket_payment(reconcile_repair.order_number)
            WHEN 'reconcile_release_capacity' THEN payments.release_ticket_capacity(reconcile_repair.order_number)
            WHEN 'reconcile_fix_pickup_code' THEN payments.apply_product_payment(reconcile_repair.order_number)
            WHEN 'reconcile_release_stock' THEN payments.release_product_stock(reconcile_repair.order_number)
        END;
        v_outcome := CASE WHEN v_effect ->> 'effect' = 'review' THEN 'flagged' ELSE 'repaired' END;
        PERFORM payments.log_event(reconcile_repair.source, reconcile_repair.event_type, v_outcome,
                                   reconcile_repair.order_number, v_effect, NULL, NULL, NULL, NULL,
                                   reconcile_repair.run_id);
        RETURN v_outcome;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
    END;
    PERFORM payments.log_event(reconcile_repair.source, 'reconcile_error', v_state,
                               reconcile_repair.order_number,
                               jsonb_build_object('repair', reconcile_repair.event_type,
                                                  'sqlstate', v_state, 'message', v_message),
                               NULL, NULL, NULL, NULL, reconcile_repair.run_id);
    RETURN 'error';
END
$$;
COMMENT ON FUNCTION payments.reconcile_repair(order_number text, event_type text, source text, run_id bigint) IS 'Repairs one order for reconcile_local and logs it (reconcile_fix_* / reconcile_release_* / reconcile_error)';
CREATE FUNCTION payments.release_product_stock(order_number text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
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
COMMENT ON FUNCTION payments.release_product_stock(order_number text) IS 'Failed/expired/refunded product order: return held stock once; PM001, PM010, PM011';
CREATE FUNCTION payments.release_ticket_capacity(order_number text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v_released integer := 0;
    v_returned integer := 0;
    v_voided integer := 0;
BEGIN
    o := payments.lock_order(release_ticket_capacity.order_number, 'ticket');
    IF o.status NOT IN ('failed', 'expired', 'refunded') THEN
        RAISE EXCEPTION 'order % is %; only failed, expired or refunded orders release capacity',
            o.order_number, o.status USING ERRCODE = 'PM011';
    END IF;
    IF o.capacity_released_at IS NOT NULL THEN
        RETURN jsonb_build_object('effect', 'none');
    END IF;
    PERFORM 1 FROM payments.ticket_slots AS s
     WHERE s.id IN (SELECT i.slot_id FROM payments.ticket_order_items AS i WHERE i.order_id = o.id)
     ORDER BY s.id
       FOR UPDATE OF s;
    SELECT coalesce(sum(i.quantity - i.finalized_quantity), 0), coalesce(sum(i.finalized_quantity), 0)
      INTO v_released, v_returned
      FROM payments.ticket_order_items AS i WHERE i.order_id = o.id;
    UPDATE payments.ticket_slots AS s
       SET reserved = s.reserved - (i.quantity - i.finalized_quantity),
           sold = s.sold - i.finalized_quantity,
           updated_at = now()
      FROM payments.ticket_order_items AS i
     WHERE i.order_id = o.id AND s.id = i.slot_id;
    UPDATE payments.ticket_order_items AS i
       SET finalized_quantity = 0
     WHERE i.order_id = o.id AND i.finalized_quantity <> 0;
    UPDATE payments.tickets AS t
       SET status = 'void', voided_at = now()
      FROM payments.ticket_order_items AS i
     WHERE i.order_id = o.id AND t.order_item_id = i.id AND t.status = 'active';
    GET DIAGNOSTICS v_voided = ROW_COUNT;
    UPDATE payments.orders SET capacity_released_at = now(), updated_at = now() WHERE id = o.id;
    RETURN jsonb_build_object('effect', 'capacity_released', 'reserved_released', v_released,
                              'sold_returned', v_returned, 'tickets_voided', v_voided);
END
$$;
COMMENT ON FUNCTION payments.release_ticket_capacity(order_number text) IS 'Failed/expired/refunded ticket order: return held capacity and void tickets once; PM001, PM010, PM011';
CREATE FUNCTION payments.repair_counter_drift(source text DEFAULT 'manual'::text) RETURNS TABLE(resource text, code text, outcome text, detail jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    d record;
BEGIN
    PERFORM 1 FROM payments.ticket_slots ORDER BY id FOR UPDATE;
    PERFORM 1 FROM payments.product_variants ORDER BY id FOR UPDATE;
    FOR d IN SELECT * FROM payments.counter_drift() AS c ORDER BY c.resource DESC, c.resource_id LOOP
        resource := d.resource;
        code := d.code;
        detail := jsonb_build_object('reserved_actual', d.reserved_actual,
                                     'reserved_expected', d.reserved_expected,
                                     'sold_actual', d.sold_actual, 'sold_expected', d.sold_expected);
        BEGIN
            IF d.resource = 'ticket_slot' THEN
                UPDATE payments.ticket_slots
                   SET reserved = d.reserved_expected, sold = d.sold_expected, updated_at = now()
                 WHERE id = d.resource_id;
            ELSE
                UPDATE payments.product_variants
                   SET reserved_stock = d.reserved_expected, sold = d.sold_expected, updated_at = now()
                 WHERE id = d.resource_id;
            END IF;
            outcome := 'repaired';
        EXCEPTION WHEN check_violation THEN
            outcome := 'oversold';   -- orders imply more than capacity / stock: people decide
        END;
        PERFORM payments.log_event(repair_counter_drift.source, 'reconcile_fix_counter_drift',
                                   outcome, NULL,
                                   detail || jsonb_build_object('resource', d.resource, 'code', d.code));
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION payments.repair_counter_drift(source text) IS 'Sets drifted slot / variant counters to the sums implied by orders; logs each fix';
CREATE FUNCTION payments.require_row_limit(value integer, name text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
BEGIN
    IF require_row_limit.value IS NULL OR require_row_limit.value NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION '% must be between 1 and 100000, got %', require_row_limit.name,
            quote_nullable(require_row_limit.value) USING ERRCODE = 'PM009';
    END IF;
END
$$;
COMMENT ON FUNCTION payments.require_row_limit(value integer, name text) IS 'Raises PM009 unless a row limit / batch size is between 1 and 100000';
CREATE FUNCTION payments.require_source(source text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
BEGIN
    IF require_source.source IS NULL
       OR require_source.source NOT IN ('webhook', 'sync', 'reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'source must be webhook, sync, reconcile, cron or manual, got %',
            quote_nullable(require_source.source) USING ERRCODE = 'PM009';
    END IF;
END
$$;
COMMENT ON FUNCTION payments.require_source(source text) IS 'Raises PM009 unless source is webhook, sync, reconcile, cron or manual';
CREATE FUNCTION payments.resolve_review(order_number text, action text, note text DEFAULT NULL::text, actor text DEFAULT CURRENT_USER) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
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
COMMENT ON FUNCTION payments.resolve_review(order_number text, action text, note text, actor text) IS 'Operator action on a flagged order: accept | refund | dismiss, logged; PM001, PM009, PM012';
CREATE FUNCTION payments.scrub_secrets(value jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
DECLARE
    v jsonb := scrub_secrets.value;
    nested text;
BEGIN
    IF v IS NULL OR strpos(v::text, 'signature_key') = 0 THEN
        RETURN v;
    END IF;
    IF jsonb_typeof(v) = 'object' THEN
        v := v - 'signature_key';
        FOREACH nested IN ARRAY ARRAY['notification', 'status'] LOOP
            IF jsonb_typeof(v -> nested) = 'object' THEN
                v := jsonb_set(v, ARRAY[nested], (v -> nested) - 'signature_key');
            END IF;
        END LOOP;
    END IF;
    IF strpos(v::text, 'signature_key') > 0 THEN
        -- "signature_key": "<token>", escaped or not; only a string's content is
        -- replaced, so the result is still valid JSON
        v := regexp_replace(v::text, '(signature_key\\?"\s*:\s*\\?")[A-Za-z0-9+/=_-]+',
                            '\1[scrubbed]', 'g')::jsonb;
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION payments.scrub_secrets(value jsonb) IS 'Removes signature_key members (body, nested notification / status) and replaces any other signature_key string value';
CREATE FUNCTION payments.start_run(kind text, source text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'payments', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
BEGIN
    IF start_run.kind IS NULL OR start_run.kind NOT IN ('sync', 'reconcile') THEN
        RAISE EXCEPTION 'run kind must be sync or reconcile, got %', quote_nullable(start_run.kind)
            USING ERRCODE = 'PM009';
    END IF;
    IF coalesce(start_run.source, start_run.kind) NOT IN ('sync', 'reconcile', 'cron', 'manual') THEN
        RAISE EXCEPTION 'run source must be sync, reconcile, cron or manual, got %',
            quote_nullable(start_run.source) USING ERRCODE = 'PM009';
    END IF;
    INSERT INTO payments.runs (kind, source)
    VALUES (start_run.kind, coalesce(start_run.source, start_run.kind))
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION payments.start_run(kind text, source text) IS 'Opens a run (kind sync | reconcile; source sync | reconcile | cron | manual) and returns its id; PM009';
CREATE FUNCTION payments.status_code_documented(evidence text, transaction_status text, fraud_status text, status_code text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'payments', 'pg_temp'
    AS $$
DECLARE
    ts text := lower(btrim(status_code_documented.transaction_status));
    fs text := coalesce(nullif(lower(btrim(status_code_documented.fraud_status)), ''), 'accept');
    code text := btrim(status_code_documented.status_code);
    allowed text[];
BEGIN
    IF status_code_documented.evidence = 'local' THEN
        RETURN status_code_documented.status_code IS NULL;
    END IF;
    -- the notification table; the Status API mirrors it ("the response is the
    -- same as the notification") and adds its own codes for cancel and expire
    allowed := CASE ts
        WHEN 'settlement' THEN '{200}'
        WHEN 'capture' THEN CASE fs WHEN 'accept' THEN '{200}' WHEN 'challenge' THEN '{201}'
                                    WHEN 'deny' THEN '{202}' END
        WHEN 'pending' THEN '{201}'
        WHEN 'authorize' THEN '{200,201}'
        WHEN 'deny' THEN '{202}'
        WHEN 'cancel' THEN '{202}'
        WHEN 'expire' THEN '{202,407}'
        WHEN 'failure' THEN '{202}'
        WHEN 'refund' THEN '{200}'
        WHEN 'partial_refund' THEN '{200}'
        WHEN 'chargeback' THEN '{200}'
        WHEN 'partial_chargeback' THEN '{200}'
    END;
    CASE status_code_documented.evidence
    WHEN 'notification' THEN
        NULL;
    WHEN 'status_api' THEN
        IF ts = 'cancel' THEN allowed := '{200,202}'; END IF;
    WHEN 'action' THEN
        -- cancel 200, expire 407, approve / capture 200 capture-accept, deny 200
        -- deny-deny, a capture the bank refuses 202 deny, refund 200
        allowed := CASE ts
            WHEN 'cancel' THEN '{200}'
            WHEN 'expire' THEN '{407}'
            WHEN 'capture' THEN CASE fs WHEN 'accept' THEN '{200}' END
            WHEN 'deny' THEN '{200,202}'
            WHEN 'refund' THEN '{200}'
            WHEN 'partial_refund' THEN '{200}'
        END;
    ELSE
        RAISE EXCEPTION 'evidence must be notification, status_api, action or local, got %',
            quote_nullable(status_code_documented.evidence) USING ERRCODE = 'PM009';
    END CASE;
    RETURN coalesce(code = ANY (allowed), false);
END
$$;
COMMENT ON FUNCTION payments.status_code_documented(evidence text, transaction_status text, fraud_status text, status_code text) IS 'Does a documented Midtrans source (notification, status_api, action) send this status_code with this status? local: status_code must be NULL';
CREATE FUNCTION payments.validate_order_header(order_number text, expires_at timestamp with time zone, gross_amount numeric, currency text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'payments', 'pg_temp'
    AS $_$
#variable_conflict use_column
BEGIN
    IF validate_order_header.order_number IS NULL
       OR validate_order_header.order_number !~ '^[A-Za-z0-9._~-]{1,50}$'
       OR validate_order_header.order_number IN ('.', '..') THEN
        -- Midtrans' order_id alphabet; "." and ".." alone would be URL dot segments
        RAISE EXCEPTION 'order_number must be 1-50 characters of A-Z a-z 0-9 . _ ~ - and not "." or ".." (Midtrans order_id), got %',
            quote_nullable(left(validate_order_header.order_number, 60))
            USING ERRCODE = 'PM009';
    END IF;
    IF validate_order_header.expires_at IS NULL OR validate_order_header.expires_at <= now() THEN
        RAISE EXCEPTION 'expires_at must be in the future, got %',
            quote_nullable(validate_order_header.expires_at)
            USING ERRCODE = 'PM009';
    END IF;
    IF validate_order_header.gross_amount IS NULL OR validate_order_header.gross_amount <= 0
       OR validate_order_header.gross_amount >= 1e12
       OR validate_order_header.gross_amount <> round(validate_order_header.gross_amount, 2) THEN
        RAISE EXCEPTION 'gross_amount must be positive, below 1e12, with at most 2 decimals, got %',
            quote_nullable(validate_order_header.gross_amount)
            USING ERRCODE = 'PM009';
    END IF;
    IF validate_order_header.currency IS NULL OR validate_order_header.currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'currency must be a 3-letter ISO code, got %',
            quote_nullable(validate_order_header.currency)
            USING ERRCODE = 'PM009';
    END IF;
END
$_$;
COMMENT ON FUNCTION payments.validate_order_header(order_number text, expires_at timestamp with time zone, gross_amount numeric, currency text) IS 'Raises PM009 for a malformed order_number, expires_at, gross_amount or currency';
CREATE TABLE payments.alert_thresholds (
    name text NOT NULL,
    threshold numeric NOT NULL,
    "window" interval,
    description text NOT NULL
);
CREATE VIEW payments.audit_counter_drift AS
 SELECT counter_drift.resource,
    counter_drift.resource_id,
    counter_drift.code,
    counter_drift.reserved_actual,
    counter_drift.reserved_expected,
    counter_drift.sold_actual,
    counter_drift.sold_expected
   FROM payments.counter_drift() counter_drift(resource, resource_id, code, reserved_actual, reserved_expected, sold_actual, sold_expected);
CREATE VIEW payments.audit_open_reviews AS
 SELECT o.order_number,
    o.kind,
    o.status,
    o.review_reason,
    o.gateway_status,
    o.gateway_transaction_id,
    o.gross_amount,
    o.paid_amount,
    o.updated_at
   FROM payments.orders o
  WHERE o.needs_review;
CREATE TABLE payments.ticket_order_items (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    slot_id bigint NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(14,2),
    finalized_quantity integer DEFAULT 0 NOT NULL,
    CONSTRAINT ticket_order_items_finalized_check CHECK (((finalized_quantity >= 0) AND (finalized_quantity <= quantity))),
    CONSTRAINT ticket_order_items_quantity_check CHECK ((quantity > 0)),
    CONSTRAINT ticket_order_items_unit_price_check CHECK ((unit_price >= (0)::numeric))
);
CREATE TABLE payments.ticket_slots (
    id bigint NOT NULL,
    code text NOT NULL,
    starts_at timestamp with time zone,
    capacity integer NOT NULL,
    reserved integer DEFAULT 0 NOT NULL,
    sold integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ticket_slots_code_check CHECK ((code <> ''::text)),
    CONSTRAINT ticket_slots_counters_check CHECK (((capacity >= 0) AND (reserved >= 0) AND (sold >= 0) AND ((reserved + sold) <= capacity)))
);
CREATE TABLE payments.tickets (
    id bigint NOT NULL,
    order_item_id bigint NOT NULL,
    seq integer NOT NULL,
    code text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    issued_at timestamp with time zone DEFAULT now() NOT NULL,
    voided_at timestamp with time zone,
    CONSTRAINT tickets_seq_check CHECK ((seq > 0)),
    CONSTRAINT tickets_status_check CHECK ((status = ANY (ARRAY['active'::text, 'void'::text]))),
    CONSTRAINT tickets_void_check CHECK (((status = 'void'::text) = (voided_at IS NOT NULL)))
);
CREATE VIEW payments.audit_paid_orders_missing_tickets AS
 SELECT o.order_number,
    o.paid_at,
    o.needs_review,
    o.review_reason,
    i.quantity,
    t.active AS active_tickets,
    i.finalized_quantity,
    s.code AS slot
   FROM (((payments.orders o
     JOIN payments.ticket_order_items i ON ((i.order_id = o.id)))
     JOIN payments.ticket_slots s ON ((s.id = i.slot_id)))
     CROSS JOIN LATERAL ( SELECT count(*) AS active
           FROM payments.tickets x
          WHERE ((x.order_item_id = i.id) AND (x.status = 'active'::text))) t)
  WHERE ((o.kind = 'ticket'::text) AND (o.status = 'paid'::text) AND ((t.active <> i.quantity) OR (i.finalized_quantity <> i.quantity) OR (o.capacity_released_at IS NOT NULL)));
CREATE VIEW payments.audit_paid_products_missing_pickup_code AS
 SELECT o.order_number,
    o.paid_at,
    (o.pickup_code IS NOT NULL) AS has_pickup_code,
    o.stock_confirmed_at,
    o.stock_released_at,
    o.needs_review,
    o.review_reason
   FROM payments.orders o
  WHERE ((o.kind = 'product'::text) AND (o.status = 'paid'::text) AND ((o.pickup_code IS NULL) OR (o.stock_confirmed_at IS NULL) OR (o.stock_released_at IS NOT NULL)));
CREATE TABLE payments.webhook_logs (
    id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    source text NOT NULL,
    event_type text NOT NULL,
    order_number text,
    transaction_id text,
    transaction_status text,
    fraud_status text,
    status_code text,
    gross_amount numeric(14,2),
    signature_valid boolean,
    outcome text NOT NULL,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    payload jsonb,
    run_id bigint,
    CONSTRAINT webhook_logs_source_check CHECK ((source = ANY (ARRAY['webhook'::text, 'sync'::text, 'reconcile'::text, 'cron'::text, 'manual'::text])))
);
CREATE VIEW payments.audit_recent_repairs AS
 SELECT l.created_at,
    l.source,
    l.event_type,
    l.order_number,
    l.outcome,
    l.detail,
    l.run_id
   FROM payments.webhook_logs l
  WHERE ((l.event_type ~~ 'reconcile\_%'::text) AND (l.event_type <> 'reconcile_run'::text) AND (l.created_at > (now() - '7 days'::interval)))
  ORDER BY l.id DESC;
CREATE VIEW payments.audit_released_orders_holding_capacity AS
 SELECT o.order_number,
    o.status,
    o.updated_at,
    s.code AS slot,
    (i.quantity - i.finalized_quantity) AS reserved_held,
    i.finalized_quantity AS sold_held
   FROM ((payments.orders o
     JOIN payments.ticket_order_items i ON ((i.order_id = o.id)))
     JOIN payments.ticket_slots s ON ((s.id = i.slot_id)))
  WHERE ((o.kind = 'ticket'::text) AND (o.status = ANY (ARRAY['failed'::text, 'expired'::text, 'refunded'::text])) AND ((o.capacity_released_at IS NULL) OR (i.finalized_quantity > 0)));
CREATE TABLE payments.product_order_items (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    variant_id bigint NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(14,2),
    finalized_quantity integer DEFAULT 0 NOT NULL,
    CONSTRAINT product_order_items_finalized_check CHECK (((finalized_quantity >= 0) AND (finalized_quantity <= quantity))),
    CONSTRAINT product_order_items_quantity_check CHECK ((quantity > 0)),
    CONSTRAINT product_order_items_unit_price_check CHECK ((unit_price >= (0)::numeric))
);
CREATE TABLE payments.product_variants (
    id bigint NOT NULL,
    sku text NOT NULL,
    name text,
    stock integer NOT NULL,
    reserved_stock integer DEFAULT 0 NOT NULL,
    sold integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT product_variants_counters_check CHECK (((stock >= 0) AND (reserved_stock >= 0) AND (sold >= 0) AND ((reserved_stock + sold) <= stock))),
    CONSTRAINT product_variants_sku_check CHECK ((sku <> ''::text))
);
CREATE VIEW payments.audit_stock_held_by_dead_orders AS
 SELECT o.order_number,
    o.status,
    o.updated_at,
    v.sku,
    (i.quantity - i.finalized_quantity) AS reserved_held,
    i.finalized_quantity AS sold_held
   FROM ((payments.orders o
     JOIN payments.product_order_items i ON ((i.order_id = o.id)))
     JOIN payments.product_variants v ON ((v.id = i.variant_id)))
  WHERE ((o.kind = 'product'::text) AND (o.status = ANY (ARRAY['failed'::text, 'expired'::text, 'refunded'::text])) AND ((o.stock_released_at IS NULL) OR (i.finalized_quantity > 0)));
ALTER TABLE payments.orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE payments.product_order_items ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.product_order_items_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE payments.product_variants ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.product_variants_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE payments.runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE payments.ticket_order_items ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.ticket_order_items_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE payments.ticket_slots ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.ticket_slots_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE payments.tickets ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.tickets_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE payments.webhook_logs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME payments.webhook_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE ONLY payments.alert_thresholds
    ADD CONSTRAINT alert_thresholds_pkey PRIMARY KEY (name);
ALTER TABLE ONLY payments.gateway_transactions
    ADD CONSTRAINT gateway_transactions_pkey PRIMARY KEY (order_id, transaction_id);
ALTER TABLE ONLY payments.orders
    ADD CONSTRAINT orders_order_number_key UNIQUE (order_number);
ALTER TABLE ONLY payments.orders
    ADD CONSTRAINT orders_pickup_code_key UNIQUE (pickup_code);
ALTER TABLE ONLY payments.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
ALTER TABLE ONLY payments.product_order_items
    ADD CONSTRAINT product_order_items_order_id_variant_id_key UNIQUE (order_id, variant_id);
ALTER TABLE ONLY payments.product_order_items
    ADD CONSTRAINT product_order_items_pkey PRIMARY KEY (id);
ALTER TABLE ONLY payments.product_variants
    ADD CONSTRAINT product_variants_pkey PRIMARY KEY (id);
ALTER TABLE ONLY payments.product_variants
    ADD CONSTRAINT product_variants_sku_key UNIQUE (sku);
ALTER TABLE ONLY payments.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY payments.ticket_order_items
    ADD CONSTRAINT ticket_order_items_order_id_slot_id_key UNIQUE (order_id, slot_id);
ALTER TABLE ONLY payments.ticket_order_items
    ADD CONSTRAINT ticket_order_items_pkey PRIMARY KEY (id);
ALTER TABLE ONLY payments.ticket_slots
    ADD CONSTRAINT ticket_slots_code_key UNIQUE (code);
ALTER TABLE ONLY payments.ticket_slots
    ADD CONSTRAINT ticket_slots_pkey PRIMARY KEY (id);
ALTER TABLE ONLY payments.tickets
    ADD CONSTRAINT tickets_code_key UNIQUE (code);
ALTER TABLE ONLY payments.tickets
    ADD CONSTRAINT tickets_order_item_id_seq_key UNIQUE (order_item_id, seq);
ALTER TABLE ONLY payments.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (id);
ALTER TABLE ONLY payments.webhook_logs
    ADD CONSTRAINT webhook_logs_pkey PRIMARY KEY (id);
CREATE INDEX orders_paid_unfulfilled_since_idx ON payments.orders USING btree (paid_at) WHERE ((status = 'paid'::text) AND (((kind = 'ticket'::text) AND ((tickets_issued_at IS NULL) OR (capacity_released_at IS NOT NULL))) OR ((kind = 'product'::text) AND ((pickup_code IS NULL) OR (stock_confirmed_at IS NULL) OR (stock_released_at IS NOT NULL)))));
CREATE INDEX orders_pending_expires_idx ON payments.orders USING btree (expires_at) WHERE (status = 'pending'::text);
CREATE INDEX orders_product_unfulfilled_idx ON payments.orders USING btree (id) WHERE ((kind = 'product'::text) AND (status = 'paid'::text) AND (NOT needs_review) AND ((pickup_code IS NULL) OR (stock_confirmed_at IS NULL) OR (stock_released_at IS NOT NULL)));
CREATE INDEX orders_product_unreleased_idx ON payments.orders USING btree (id) WHERE ((kind = 'product'::text) AND (status = ANY (ARRAY['failed'::text, 'expired'::text, 'refunded'::text])) AND (stock_released_at IS NULL));
CREATE INDEX orders_review_idx ON payments.orders USING btree (updated_at) WHERE needs_review;
CREATE INDEX orders_ticket_unfulfilled_idx ON payments.orders USING btree (id) WHERE ((kind = 'ticket'::text) AND (status = 'paid'::text) AND (NOT needs_review) AND ((tickets_issued_at IS NULL) OR (capacity_released_at IS NOT NULL)));
CREATE INDEX orders_ticket_unreleased_idx ON payments.orders USING btree (id) WHERE ((kind = 'ticket'::text) AND (status = ANY (ARRAY['failed'::text, 'expired'::text, 'refunded'::text])) AND (capacity_released_at IS NULL));
CREATE INDEX product_order_items_variant_idx ON payments.product_order_items USING btree (variant_id);
CREATE INDEX runs_kind_started_idx ON payments.runs USING btree (kind, started_at DESC);
CREATE INDEX ticket_order_items_slot_idx ON payments.ticket_order_items USING btree (slot_id);
CREATE INDEX webhook_logs_created_idx ON payments.webhook_logs USING btree (created_at);
CREATE INDEX webhook_logs_order_idx ON payments.webhook_logs USING btree (order_number, id);
CREATE INDEX webhook_logs_repairs_idx ON payments.webhook_logs USING btree (created_at) WHERE (event_type ~~ 'reconcile\_%'::text);
CREATE INDEX webhook_logs_signature_invalid_idx ON payments.webhook_logs USING btree (created_at) WHERE (event_type = 'signature_invalid'::text);
ALTER TABLE ONLY payments.gateway_transactions
    ADD CONSTRAINT gateway_transactions_order_id_fkey FOREIGN KEY (order_id) REFERENCES payments.orders(id);
ALTER TABLE ONLY payments.product_order_items
    ADD CONSTRAINT product_order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES payments.orders(id);
ALTER TABLE ONLY payments.product_order_items
    ADD CONSTRAINT product_order_items_variant_id_fkey FOREIGN KEY (variant_id) REFERENCES payments.product_variants(id);
ALTER TABLE ONLY payments.ticket_order_items
    ADD CONSTRAINT ticket_order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES payments.orders(id);
ALTER TABLE ONLY payments.ticket_order_items
    ADD CONSTRAINT ticket_order_items_slot_id_fkey FOREIGN KEY (slot_id) REFERENCES payments.ticket_slots(id);
ALTER TABLE ONLY payments.tickets
    ADD CONSTRAINT tickets_order_item_id_fkey FOREIGN KEY (order_item_id) REFERENCES payments.ticket_order_items(id);
ALTER TABLE ONLY payments.webhook_logs
    ADD CONSTRAINT webhook_logs_run_id_fkey FOREIGN KEY (run_id) REFERENCES payments.runs(id);
GRANT USAGE ON SCHEMA payments TO payments_runner;
GRANT USAGE ON SCHEMA payments TO payments_readonly;
REVOKE ALL ON FUNCTION payments.alerts() FROM PUBLIC;
GRANT ALL ON FUNCTION payments.alerts() TO payments_runner;
GRANT ALL ON FUNCTION payments.alerts() TO payments_readonly;
REVOKE ALL ON FUNCTION payments.apply_gateway_status(order_number text, transaction_status text, fraud_status text, gross_amount numeric, transaction_id text, status_code text, source text, payload jsonb, run_id bigint, evidence text, trigger_only boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.apply_gateway_status(order_number text, transaction_status text, fraud_status text, gross_amount numeric, transaction_id text, status_code text, source text, payload jsonb, run_id bigint, evidence text, trigger_only boolean) TO payments_runner;
REVOKE ALL ON FUNCTION payments.apply_product_payment(order_number text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.apply_product_payment(order_number text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.apply_status_not_found(order_number text, source text, expiry_grace interval, run_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.apply_status_not_found(order_number text, source text, expiry_grace interval, run_id bigint) TO payments_runner;
REVOKE ALL ON FUNCTION payments.apply_ticket_payment(order_number text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.apply_ticket_payment(order_number text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.check_invariants() FROM PUBLIC;
GRANT ALL ON FUNCTION payments.check_invariants() TO payments_runner;
GRANT ALL ON FUNCTION payments.check_invariants() TO payments_readonly;
REVOKE ALL ON FUNCTION payments.check_items_total(gross_amount numeric, total numeric, priced integer, item_count integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.counter_drift() FROM PUBLIC;
GRANT ALL ON FUNCTION payments.counter_drift() TO payments_readonly;
REVOKE ALL ON FUNCTION payments.create_product_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.create_product_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.create_ticket_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.create_ticket_order(order_number text, items jsonb, expires_at timestamp with time zone, gross_amount numeric, currency text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.find_mismatches(max_rows integer, expiry_grace interval) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.find_mismatches(max_rows integer, expiry_grace interval) TO payments_runner;
GRANT ALL ON FUNCTION payments.find_mismatches(max_rows integer, expiry_grace interval) TO payments_readonly;
GRANT SELECT ON TABLE payments.runs TO payments_readonly;
REVOKE ALL ON FUNCTION payments.finish_run(run_id bigint, totals jsonb, error text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.finish_run(run_id bigint, totals jsonb, error text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.gateway_rank(transaction_status text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.last_runs() FROM PUBLIC;
GRANT ALL ON FUNCTION payments.last_runs() TO payments_runner;
GRANT ALL ON FUNCTION payments.last_runs() TO payments_readonly;
GRANT SELECT ON TABLE payments.orders TO payments_readonly;
REVOKE ALL ON FUNCTION payments.lock_order(order_number text, kind text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.log_event(source text, event_type text, outcome text, order_number text, detail jsonb, payload jsonb, signature_valid boolean, transaction_status text, status_code text, run_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.log_event(source text, event_type text, outcome text, order_number text, detail jsonb, payload jsonb, signature_valid boolean, transaction_status text, status_code text, run_id bigint) TO payments_runner;
REVOKE ALL ON FUNCTION payments.new_pickup_code(order_id bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.normalize_midtrans_status(transaction_status text, fraud_status text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.normalize_midtrans_status(transaction_status text, fraud_status text) TO payments_runner;
GRANT ALL ON FUNCTION payments.normalize_midtrans_status(transaction_status text, fraud_status text) TO payments_readonly;
REVOKE ALL ON FUNCTION payments.order_summary(order_number text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.order_summary(order_number text) TO payments_runner;
GRANT ALL ON FUNCTION payments.order_summary(order_number text) TO payments_readonly;
REVOKE ALL ON FUNCTION payments.order_timeline(order_number text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.order_timeline(order_number text) TO payments_runner;
GRANT ALL ON FUNCTION payments.order_timeline(order_number text) TO payments_readonly;
REVOKE ALL ON FUNCTION payments.orders_due_for_sync(min_age interval, recheck_after interval, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.orders_due_for_sync(min_age interval, recheck_after interval, max_rows integer) TO payments_runner;
REVOKE ALL ON FUNCTION payments.orders_past_expiry(expiry_grace interval, max_rows integer) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.orders_past_expiry(expiry_grace interval, max_rows integer) TO payments_runner;
GRANT SELECT ON TABLE payments.gateway_transactions TO payments_readonly;
REVOKE ALL ON FUNCTION payments.other_paid_transaction(order_id bigint, transaction_id text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.parse_order_items(items jsonb, code_key text, id_key text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.random_code(n_chars integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.reconcile_local(batch_size integer, source text, run_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.reconcile_local(batch_size integer, source text, run_id bigint) TO payments_runner;
REVOKE ALL ON FUNCTION payments.reconcile_repair(order_number text, event_type text, source text, run_id bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.release_product_stock(order_number text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.release_product_stock(order_number text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.release_ticket_capacity(order_number text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.release_ticket_capacity(order_number text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.repair_counter_drift(source text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.repair_counter_drift(source text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.require_row_limit(value integer, name text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.require_source(source text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.resolve_review(order_number text, action text, note text, actor text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.resolve_review(order_number text, action text, note text, actor text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.scrub_secrets(value jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION payments.start_run(kind text, source text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.start_run(kind text, source text) TO payments_runner;
REVOKE ALL ON FUNCTION payments.status_code_documented(evidence text, transaction_status text, fraud_status text, status_code text) FROM PUBLIC;
GRANT ALL ON FUNCTION payments.status_code_documented(evidence text, transaction_status text, fraud_status text, status_code text) TO payments_readonly;
REVOKE ALL ON FUNCTION payments.validate_order_header(order_number text, expires_at timestamp with time zone, gross_amount numeric, currency text) FROM PUBLIC;
GRANT SELECT ON TABLE payments.alert_thresholds TO payments_readonly;
GRANT SELECT ON TABLE payments.audit_counter_drift TO payments_readonly;
GRANT SELECT ON TABLE payments.audit_open_reviews TO payments_readonly;
GRANT SELECT ON TABLE payments.ticket_order_items TO payments_readonly;
GRANT SELECT ON TABLE payments.ticket_slots TO payments_readonly;
GRANT SELECT ON TABLE payments.tickets TO payments_readonly;
GRANT SELECT ON TABLE payments.audit_paid_orders_missing_tickets TO payments_readonly;
GRANT SELECT ON TABLE payments.audit_paid_products_missing_pickup_code TO payments_readonly;
GRANT SELECT ON TABLE payments.webhook_logs TO payments_readonly;
GRANT SELECT ON TABLE payments.audit_recent_repairs TO payments_readonly;
GRANT SELECT ON TABLE payments.audit_released_orders_holding_capacity TO payments_readonly;
GRANT SELECT ON TABLE payments.product_order_items TO payments_readonly;
GRANT SELECT ON TABLE payments.product_variants TO payments_readonly;
GRANT SELECT ON TABLE payments.audit_stock_held_by_dead_orders TO payments_readonly;
