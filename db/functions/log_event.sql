-- The audit trail (payments.webhook_logs) has two writers:
--   payments_private.write_log  the functions that decide (gateway decisions,
--                               repairs, operator actions, runs); not granted
--   payments.log_rejection      the runner's rejected notifications, from a
--                               fixed vocabulary whose outcome and
--                               signature_valid the vocabulary fixes
-- so no caller can write a "webhook settlement paid" row that was never decided.
DROP FUNCTION IF EXISTS payments.log_event(text, text, text, text, jsonb, jsonb, boolean, text, text, bigint);

-- payments_private.setting(name)
-- A value of payments.settings; a deleted row falls back to the default the
-- migration installed, so deleting a row never removes a bound.
CREATE OR REPLACE FUNCTION payments_private.setting(name text)
RETURNS text
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
BEGIN
    RETURN (
        SELECT coalesce((SELECT s.value FROM payments.settings AS s WHERE s.name = setting.name),
                        CASE setting.name WHEN 'max_hold' THEN '24 hours'
                                          WHEN 'max_payload_bytes' THEN '65536'
                                          WHEN 'retention_noise' THEN '30 days'
                                          WHEN 'retention_decisions' THEN '400 days' END));
END
$$;

COMMENT ON FUNCTION payments_private.setting(text) IS
    'A value of payments.settings, or its default when the row was deleted';

-- payments_private.bounded(value, what)
-- The value, or PM015 when it is larger than the max_payload_bytes setting.
CREATE OR REPLACE FUNCTION payments_private.bounded(value jsonb, what text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_size integer := pg_column_size(bounded.value);
BEGIN
    -- 1024 bytes is the smallest bound the setting admits: a smaller value
    -- needs no look-up
    IF v_size > 1024 AND v_size > payments_private.setting('max_payload_bytes')::integer THEN
        RAISE EXCEPTION '% of % bytes is larger than max_payload_bytes (%)', bounded.what,
            v_size, payments_private.setting('max_payload_bytes') USING ERRCODE = 'PM015';
    END IF;
    RETURN bounded.value;
END
$$;

COMMENT ON FUNCTION payments_private.bounded(jsonb, text) IS
    'Returns the value, or raises PM015 when it is larger than the max_payload_bytes setting';

-- payments_private.next_log_id()
-- Reserves the id of a log row a function will write at its end, so rows it
-- writes before (reviews) can point to it.
CREATE OR REPLACE FUNCTION payments_private.next_log_id()
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT nextval('payments.webhook_logs_id_seq'::regclass)
$$;

COMMENT ON FUNCTION payments_private.next_log_id() IS 'Reserves a webhook_logs id';

-- payments_private.write_log(id, source, event_type, outcome, order_number,
--     transaction_id, transaction_status, fraud_status, status_code,
--     gross_amount, signature_valid, detail, payload, run_id)
-- Appends one row (id from next_log_id(), or NULL for a new one); returns its id.
CREATE OR REPLACE FUNCTION payments_private.write_log(
    id bigint, source text, event_type text, outcome text, order_number text,
    transaction_id text, transaction_status text, fraud_status text, status_code text,
    gross_amount numeric, signature_valid boolean, detail jsonb, payload jsonb, run_id bigint
)
RETURNS bigint
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_id bigint := coalesce(write_log.id, payments_private.next_log_id());
BEGIN
    INSERT INTO payments.webhook_logs (id, source, event_type, order_number, transaction_id,
        transaction_status, fraud_status, status_code, gross_amount, signature_valid, outcome, detail,
        payload, run_id)
    OVERRIDING SYSTEM VALUE
    VALUES (v_id, write_log.source, write_log.event_type, left(write_log.order_number, 100),
        left(write_log.transaction_id, 200), left(write_log.transaction_status, 64),
        left(write_log.fraud_status, 64), left(write_log.status_code, 16),
        CASE WHEN abs(write_log.gross_amount) < 1e12 THEN write_log.gross_amount END,
        write_log.signature_valid, write_log.outcome,
        coalesce(payments_private.scrub_secrets(write_log.detail), '{}'::jsonb),
        payments_private.scrub_secrets(write_log.payload), write_log.run_id);
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION payments_private.write_log(bigint, text, text, text, text, text, text, text, text, numeric,
                                               boolean, jsonb, jsonb, bigint) IS
    'Appends a webhook_logs row (secrets scrubbed); the writer of the functions that decide';

-- payments.log_rejection(event_type, order_number, detail, payload,
--     transaction_status, status_code)
-- The runner records a notification it refused. event_type is one of the
-- vocabulary below; the outcome (the HTTP status answered) and signature_valid
-- come with it, the caller cannot choose them. PM009 for anything else,
-- PM015 for an oversized payload or detail.
--   event_type               outcome  signature_valid
--   body_too_large           413      NULL (not checked)
--   malformed_json           400      NULL
--   missing_fields           400      NULL
--   signature_invalid        403      false
--   unknown_order            404      true
--   rejected                 400      true
--   confirmation_unavailable 503      true
--   confirmation_not_found   404      true
--   confirmation_mismatch    400      true
DO $$
BEGIN   -- dropped only when an older release left another result type
    IF pg_get_function_result(to_regprocedure('payments.log_rejection(text, text, jsonb, jsonb, text, text)')) <> 'bigint' THEN
        DROP FUNCTION payments.log_rejection(text, text, jsonb, jsonb, text, text);
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION payments.log_rejection(
    event_type text,
    order_number text DEFAULT NULL,
    detail jsonb DEFAULT '{}'::jsonb,
    payload jsonb DEFAULT NULL,
    transaction_status text DEFAULT NULL,
    status_code text DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_outcome text;
    v_signature boolean;
BEGIN
    SELECT x.outcome, x.signature_valid INTO v_outcome, v_signature
      FROM (VALUES ('body_too_large', '413', NULL::boolean), ('malformed_json', '400', NULL),
                   ('missing_fields', '400', NULL), ('signature_invalid', '403', false),
                   ('unknown_order', '404', true), ('rejected', '400', true),
                   ('confirmation_unavailable', '503', true), ('confirmation_not_found', '404', true),
                   ('confirmation_mismatch', '400', true)) AS x (event_type, outcome, signature_valid)
     WHERE x.event_type = log_rejection.event_type;
    IF v_outcome IS NULL THEN
        RAISE EXCEPTION 'event_type % is not a rejection the runner may log', quote_nullable(log_rejection.event_type)
            USING ERRCODE = 'PM009';
    END IF;
    RETURN payments_private.write_log(NULL, 'webhook', log_rejection.event_type, v_outcome,
        log_rejection.order_number, NULL, log_rejection.transaction_status, NULL, log_rejection.status_code,
        NULL, v_signature, payments_private.bounded(log_rejection.detail, 'detail'),
        payments_private.bounded(log_rejection.payload, 'payload'), NULL);
END
$$;

COMMENT ON FUNCTION payments.log_rejection(text, text, jsonb, jsonb, text, text) IS
    'Records a notification the runner refused, from a fixed vocabulary; PM009 unknown event_type, PM015 oversized';
