-- payments.record_operator_action(order_number, action, outcome, answer,
--     requested_amount, note)
-- What a person did at Midtrans through `payments capture | approve | deny |
-- cancel`, and what came of it, logged with session_user (source manual,
-- event_type operator_action, outcome = outcome). With outcome done (answer =
-- the action call's answer, evidence action) or already_done (answer = the
-- Status API's, evidence status_api: Midtrans had already done it, e.g. a
-- repeat after a timeout) Midtrans' answer is applied first through
-- apply_gateway_status, the decision path of every notification; refused,
-- unavailable and not_sent change nothing but the log.
--
-- An operator may not conjure money: an answer that pays (capture / accept,
-- settlement) is applied only for a transaction the ledger already holds, from
-- the webhook, sync or reconcile, as authorised (capture) or challenged
-- (approve), or holds at that stage already; a capture above the authorised
-- amount is refused. Answers that take money away are within what an operator
-- may already do (expire_order, resolve_review ... refund).
--   action   answers that fit (stage of transaction_status / fraud_status)
--   capture  capture/accept (21), settlement (22); deny (30, the bank refused)
--   approve  capture/accept (21), settlement (22)
--   deny     deny (30), cancel (31)
--   cancel   cancel (31)
-- PM001 unknown order; PM009 bad action / outcome, a missing answer;
-- PM025 the answer does not fit the action (its status, another order, no
-- transaction_id); PM026 a paying answer for a transaction the ledger does not
-- hold as authorised / challenged; PM027 a capture above the authorised
-- amount; PM015 an oversized answer.
CREATE OR REPLACE FUNCTION payments.record_operator_action(
    order_number text,
    action text,
    outcome text,
    answer jsonb DEFAULT NULL,
    requested_amount numeric DEFAULT NULL,
    note text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    t payments.gateway_transactions;
    v_answer jsonb := payments_private.scrub_secrets(record_operator_action.answer);
    v_applies boolean := record_operator_action.outcome IN ('done', 'already_done');
    v_evidence text := CASE record_operator_action.outcome WHEN 'done' THEN 'action'
                                                             WHEN 'already_done' THEN 'status_api' END;
    v_txid text := nullif(btrim(record_operator_action.answer ->> 'transaction_id'), '');
    v_stage smallint;
    v_fits smallint[];
    v_result jsonb;
    v_log_id bigint;
BEGIN
    IF record_operator_action.action IS NULL
       OR record_operator_action.action NOT IN ('capture', 'approve', 'deny', 'cancel') THEN
        RAISE EXCEPTION 'action must be capture, approve, deny or cancel, got %',
            quote_nullable(record_operator_action.action) USING ERRCODE = 'PM009';
    END IF;
    IF record_operator_action.outcome IS NULL OR record_operator_action.outcome
       NOT IN ('done', 'already_done', 'refused', 'unavailable', 'not_sent') THEN
        RAISE EXCEPTION 'outcome must be done, already_done, refused, unavailable or not_sent, got %',
            quote_nullable(record_operator_action.outcome) USING ERRCODE = 'PM009';
    END IF;
    IF v_applies AND (v_answer IS NULL OR jsonb_typeof(v_answer) <> 'object') THEN
        RAISE EXCEPTION 'outcome % needs Midtrans'' answer (a JSON object)', record_operator_action.outcome
            USING ERRCODE = 'PM009';
    END IF;
    v_answer := payments_private.bounded(v_answer, 'answer');
    o := payments_private.lock_order(record_operator_action.order_number);

    IF v_applies THEN
        v_stage := payments_private.stage_of(v_answer ->> 'transaction_status', v_answer ->> 'fraud_status');
        v_fits := CASE record_operator_action.action
                      WHEN 'capture' THEN CASE WHEN v_evidence = 'action' THEN ARRAY[21, 22, 30]
                                               ELSE ARRAY[21, 22] END
                      WHEN 'approve' THEN ARRAY[21, 22]
                      WHEN 'deny' THEN ARRAY[30, 31]
                      ELSE ARRAY[31] END::smallint[];
        IF v_stage IS NULL OR NOT v_stage = ANY (v_fits) THEN
            RAISE EXCEPTION 'Midtrans'' answer % / % is not what % can result in',
                quote_nullable(v_answer ->> 'transaction_status'), quote_nullable(v_answer ->> 'fraud_status'),
                record_operator_action.action USING ERRCODE = 'PM025';
        END IF;
        IF v_txid IS NULL THEN
            RAISE EXCEPTION 'Midtrans'' answer names no transaction_id' USING ERRCODE = 'PM025';
        END IF;
        IF v_answer ? 'order_id' AND v_answer ->> 'order_id' IS DISTINCT FROM o.order_number THEN
            RAISE EXCEPTION 'Midtrans'' answer is about order %, not %',
                quote_nullable(left(v_answer ->> 'order_id', 60)), o.order_number USING ERRCODE = 'PM025';
        END IF;
        IF v_stage IN (21, 22) THEN
            SELECT * INTO t FROM payments.gateway_transactions AS x
             WHERE x.order_id = o.id AND x.transaction_id = v_txid;
            IF NOT FOUND OR NOT t.stage = ANY (CASE record_operator_action.action
                                                   WHEN 'capture' THEN ARRAY[11, 21, 22]
                                                   ELSE ARRAY[20, 21, 22] END::smallint[]) THEN
                RAISE EXCEPTION 'transaction % of order % is not recorded as %: a person cannot make it pay; '
                                'let sync record it first (payments sync --order %)',
                    left(v_txid, 200), o.order_number,
                    CASE record_operator_action.action WHEN 'capture' THEN 'authorised' ELSE 'challenged' END,
                    o.order_number USING ERRCODE = 'PM026';
            END IF;
            IF record_operator_action.action = 'capture' AND t.stage = 11
               AND (v_answer ->> 'gross_amount')::numeric > t.gross_amount THEN
                RAISE EXCEPTION 'captured amount % is above the authorised %', v_answer ->> 'gross_amount',
                    t.gross_amount USING ERRCODE = 'PM027';
            END IF;
        END IF;
        v_result := payments.apply_gateway_status(
            o.order_number, v_answer ->> 'transaction_status', v_answer ->> 'fraud_status',
            (v_answer ->> 'gross_amount')::numeric, v_txid, v_answer ->> 'status_code', 'manual', v_answer,
            NULL, v_evidence);
    END IF;

    SELECT * INTO o FROM payments.orders AS x WHERE x.id = o.id;
    v_log_id := payments_private.write_log(NULL, 'manual', 'operator_action', record_operator_action.outcome,
        o.order_number, v_txid, v_answer ->> 'transaction_status', v_answer ->> 'fraud_status',
        v_answer ->> 'status_code', record_operator_action.requested_amount, NULL,
        jsonb_build_object('action', record_operator_action.action, 'actor', session_user,
                           'evidence', v_evidence, 'requested_amount', record_operator_action.requested_amount,
                           'note', left(record_operator_action.note, 2000),
                           'status_message', left(v_answer ->> 'status_message', 200),
                           'decision', v_result ->> 'decision', 'applied_log_id', (v_result ->> 'log_id')::bigint,
                           'status', o.status),
        CASE WHEN NOT v_applies THEN v_answer END, NULL);
    RETURN jsonb_build_object('order_number', o.order_number, 'action', record_operator_action.action,
                              'outcome', record_operator_action.outcome, 'actor', session_user,
                              'transaction_id', v_txid, 'decision', v_result ->> 'decision',
                              'previous_status', v_result ->> 'previous_status', 'status', o.status,
                              'needs_review', o.needs_review, 'applied', v_result, 'log_id', v_log_id);
END
$$;

COMMENT ON FUNCTION payments.record_operator_action(text, text, text, jsonb, numeric, text) IS
    'An operator''s capture / approve / deny / cancel at Midtrans and its outcome, logged with session_user; '
    'applies Midtrans'' answer through apply_gateway_status; PM001, PM009, PM015, PM025, PM026, PM027';
