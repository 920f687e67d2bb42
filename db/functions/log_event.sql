-- payments.log_event(source, event_type, outcome, order_number, detail, payload, ...)
-- Appends an event the state machine never saw (a rejected webhook: bad
-- signature, malformed body, unknown order; a run summary) to webhook_logs.
CREATE OR REPLACE FUNCTION payments.log_event(
    source text,
    event_type text,
    outcome text,
    order_number text DEFAULT NULL,
    detail jsonb DEFAULT '{}'::jsonb,
    payload jsonb DEFAULT NULL,
    signature_valid boolean DEFAULT NULL,
    transaction_status text DEFAULT NULL,
    status_code text DEFAULT NULL,
    run_id bigint DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
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

COMMENT ON FUNCTION payments.log_event(text, text, text, text, jsonb, jsonb, boolean, text, text, bigint) IS
    'Appends a rejected or informational event to webhook_logs; PM009 bad argument';
