-- payments.apply_gateway_status(order_number, transaction_status, fraud_status,
--     gross_amount, transaction_id, status_code, source, payload, run_id,
--     evidence, trigger_only)
-- The single entry point for webhook, sync, reconcile, cron and manual calls:
-- checks that the status_code is one Midtrans documents for the status (the
-- signature does not cover transaction_status / fraud_status), locks the
-- order, runs the state machine (docs/ARCHITECTURE.md), calls the side-effect
-- functions and logs the event with its decision, all in one transaction.
-- trigger_only: a notification that would change anything is not applied;
-- the answer says 'confirm' and the caller applies the Status API's answer.
DROP FUNCTION IF EXISTS payments.apply_gateway_status(text, text, text, numeric, text, text, text, jsonb, bigint);
CREATE OR REPLACE FUNCTION payments.apply_gateway_status(
    order_number text,
    transaction_status text,
    fraud_status text DEFAULT NULL,
    gross_amount numeric DEFAULT NULL,
    transaction_id text DEFAULT NULL,
    status_code text DEFAULT NULL,
    source text DEFAULT 'manual',
    payload jsonb DEFAULT NULL,
    run_id bigint DEFAULT NULL,
    evidence text DEFAULT NULL,
    trigger_only boolean DEFAULT false
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
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

COMMENT ON FUNCTION payments.apply_gateway_status(text, text, text, numeric, text, text, text, jsonb, bigint, text, boolean) IS
    'Single entry point for a Midtrans status from any source: check status_code, lock, decide, apply, log; PM001 unknown order, PM009 bad argument';
