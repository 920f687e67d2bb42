-- Signatures never reach a stored row: the body's and the nested
-- notification's signature_key are removed, any other one is replaced.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'webhook',
    jsonb_build_object('order_id', 'T-1', 'signature_key', repeat('ab', 64),
                       'notification', jsonb_build_object('signature_key', repeat('cd', 64)),
                       'list', jsonb_build_array(jsonb_build_object('signature_key', 'x')),
                       'note', 'raw body {"signature_key": "' || repeat('ef', 64) || '"}'));

SELECT is((SELECT payload FROM payments.webhook_logs),
          jsonb_build_object('order_id', 'T-1', 'notification', '{}'::jsonb,
                             'list', jsonb_build_array(jsonb_build_object('signature_key', '[scrubbed]')),
                             'note', 'raw body {"signature_key": "[scrubbed]"}'),
          'the body''s and the nested notification''s signature_key are removed, any other replaced');
SELECT is(payments_private.scrub_secrets('{"a": 1, "b": [true, null, "x"]}'), '{"a": 1, "b": [true, null, "x"]}'::jsonb,
          'a payload without a signature is kept as it is');
SELECT is(payments_private.scrub_secrets(NULL), NULL, 'NULL stays NULL');
SELECT is((SELECT count(*) FROM payments.webhook_logs
            WHERE payload::text ~ '(ab|cd|ef){64}'), 0::bigint, 'no stored row holds the signatures');
SELECT is(payments_private.scrub_secrets(('{"a": ' || repeat('[', 1000) || '"signature_key\": \"' || repeat('ab', 64)
                                  || '"' || repeat(']', 1000) || '}')::jsonb)::text !~ '(ab){64}', true,
          'any nesting depth is scrubbed in one pass');

SELECT * FROM finish();
ROLLBACK;
