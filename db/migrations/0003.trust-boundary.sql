-- Trust boundary: no stored secret, and no order number that changes a URL.
-- depends: 0002.roles

-- Midtrans' order_id is 1-50 of A-Z a-z 0-9 - _ ~ . ; "." and ".." would be
-- dot segments in /v2/{order_id}/status and reach another endpoint.
ALTER TABLE payments.orders
    ADD CONSTRAINT orders_order_number_not_dot_segment CHECK (order_number NOT IN ('.', '..'));

-- Every stored notification kept its signature_key, which a reader could
-- replay. Remove the member from the stored bodies (and the notification /
-- status bodies nested in them); anywhere deeper and inside strings (the kept
-- prefix of a malformed body), replace the string after "signature_key". From
-- now on payments.scrub_secrets does this before anything is stored.
UPDATE payments.webhook_logs
   SET payload = payload - 'signature_key'
 WHERE jsonb_typeof(payload) = 'object' AND payload ? 'signature_key';
UPDATE payments.webhook_logs
   SET payload = jsonb_set(payload, '{notification}', (payload -> 'notification') - 'signature_key')
 WHERE jsonb_typeof(payload -> 'notification') = 'object' AND payload -> 'notification' ? 'signature_key';
UPDATE payments.webhook_logs
   SET payload = regexp_replace(payload::text, '(signature_key\\?"\s*:\s*\\?")[A-Za-z0-9+/=_-]+',
                                '\1[scrubbed]', 'g')::jsonb
 WHERE strpos(payload::text, 'signature_key') > 0;
UPDATE payments.webhook_logs
   SET detail = regexp_replace(detail::text, '(signature_key\\?"\s*:\s*\\?")[A-Za-z0-9+/=_-]+',
                               '\1[scrubbed]', 'g')::jsonb
 WHERE strpos(detail::text, 'signature_key') > 0;
