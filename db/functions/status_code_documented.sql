-- payments.status_code_documented(evidence, transaction_status, fraud_status, status_code)
-- Midtrans signs order_id + status_code + gross_amount, not transaction_status
-- or fraud_status. What binds those unsigned fields is the status_code: each
-- source documents which status_code comes with which status. A pair no
-- documented source produces is refused, so a signed `201` (pending) body
-- relabelled `settlement` never pays. Sources (docs/SQL_API.md, "Trust model"):
--   notification  an HTTP notification body (the webhook; signed, fields unsigned)
--   status_api    an answer of GET /v2/{id}/status (the current truth over TLS)
--   action        an answer of an action call (cancel, expire, approve, deny,
--                 capture, refund)
--   local         no Midtrans evidence at all (a local expiry, an operator's
--                 call in psql): status_code must be NULL
-- The rule lives in payments_private.code_documented, plain SQL that the
-- planner inlines into apply_gateway_status; payments.status_code_documented
-- is its public face, which also refuses an evidence it does not know.
CREATE OR REPLACE FUNCTION payments_private.code_documented(
    evidence text,
    transaction_status text,
    fraud_status text,
    status_code text
)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    -- source -> status -> the status_codes it comes with (capture: by
    -- fraud_status, blank = accept); not listed: not documented. A table
    -- looked up, not a CASE per status: an inlined expression is compiled
    -- again in every transaction, and the lookup compiles to a fraction of
    -- the steps of the CASE it replaces.
    --   action: cancel 200, expire 407, approve / capture 200 capture-accept,
    --   deny 200 deny-deny, a capture the bank refuses 202 deny, refund 200;
    --   status_api mirrors the notification table ("the response is the same
    --   as the notification") and adds its own code for cancel (200).
    SELECT CASE WHEN code_documented.evidence = 'local' THEN code_documented.status_code IS NULL
    ELSE coalesce(
        CASE WHEN lower(btrim(code_documented.transaction_status)) = 'capture'
             THEN '{
          "action": {"accept": ["200"]},
          "notification": {"accept": ["200"], "challenge": ["201"], "deny": ["202"]},
          "status_api": {"accept": ["200"], "challenge": ["201"], "deny": ["202"]}
        }'::jsonb -> code_documented.evidence
                  -> coalesce(nullif(lower(btrim(code_documented.fraud_status)), ''), 'accept')
             ELSE '{
          "action": {
            "cancel": ["200"], "expire": ["407"], "deny": ["200", "202"],
            "refund": ["200"], "partial_refund": ["200"]},
          "notification": {
            "settlement": ["200"], "pending": ["201"], "authorize": ["200", "201"], "deny": ["202"],
            "cancel": ["202"], "expire": ["202", "407"], "failure": ["202"], "refund": ["200"],
            "partial_refund": ["200"], "chargeback": ["200"], "partial_chargeback": ["200"]},
          "status_api": {
            "settlement": ["200"], "pending": ["201"], "authorize": ["200", "201"], "deny": ["202"],
            "cancel": ["200", "202"], "expire": ["202", "407"], "failure": ["202"], "refund": ["200"],
            "partial_refund": ["200"], "chargeback": ["200"], "partial_chargeback": ["200"]}
        }'::jsonb -> code_documented.evidence -> lower(btrim(code_documented.transaction_status))
        END ? btrim(code_documented.status_code), false) END
$$;

COMMENT ON FUNCTION payments_private.code_documented(text, text, text, text) IS
    'Does a documented Midtrans source send this status_code with this status (the rule; inlined SQL)';

CREATE OR REPLACE FUNCTION payments.status_code_documented(
    evidence text,
    transaction_status text,
    fraud_status text,
    status_code text
)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
BEGIN
    IF status_code_documented.evidence IS NULL
       OR status_code_documented.evidence NOT IN ('notification', 'status_api', 'action', 'local') THEN
        RAISE EXCEPTION 'evidence must be notification, status_api, action or local, got %',
            quote_nullable(status_code_documented.evidence) USING ERRCODE = 'PM009';
    END IF;
    RETURN payments_private.code_documented(status_code_documented.evidence,
        status_code_documented.transaction_status, status_code_documented.fraud_status,
        status_code_documented.status_code);
END
$$;

COMMENT ON FUNCTION payments.status_code_documented(text, text, text, text) IS
    'Does a documented Midtrans source (notification, status_api, action) send this status_code with this status? local: status_code must be NULL';

-- payments_private.scrub_secrets(value)
-- A JSON value without its secrets. The signature_key member is removed where
-- Midtrans puts it (the body, and the notification / status bodies the runner
-- nests); anywhere deeper, and inside strings (the kept prefix of a malformed
-- body), the string after "signature_key" is replaced by [scrubbed]. Text
-- level, not recursive: any nesting depth costs one pass. Whatever a caller
-- passes, no stored row holds a signature a reader could replay.
DROP FUNCTION IF EXISTS payments.scrub_secrets(jsonb);
DROP FUNCTION IF EXISTS payments.scrub_secrets_walk(jsonb);
CREATE OR REPLACE FUNCTION payments_private.scrub_secrets(value jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
DECLARE
    v jsonb := scrub_secrets.value;
    v_text text := scrub_secrets.value::text;
    nested text;
BEGIN
    -- LIKE matches bytes; strpos and substr would count characters up to
    -- the match (a third of a settlement's scrubbing)
    IF v IS NULL OR v_text NOT LIKE '%signature\_key%' THEN
        RETURN v;
    END IF;
    -- the usual notification: one occurrence, the body's own member
    IF jsonb_typeof(v) = 'object' AND v ? 'signature_key'
       AND v_text NOT LIKE '%signature\_key%signature\_key%' THEN
        RETURN v - 'signature_key';
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

COMMENT ON FUNCTION payments_private.scrub_secrets(jsonb) IS
    'Removes signature_key members (body, nested notification / status) and replaces any other signature_key string value';
