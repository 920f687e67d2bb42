BEGIN;
SELECT plan(2);

SELECT payments.log_event('webhook', 'signature_invalid', '403', 'T-1',
    jsonb_build_object('body_prefix', '{"order_id": "T-1", "signature_key": "' || repeat('9f', 64) || '"'),
    jsonb_build_object('order_id', 'T-1', 'signature_key', repeat('9f', 64)), false);

SELECT is((SELECT payload FROM payments.webhook_logs), '{"order_id": "T-1"}'::jsonb,
          'the signature_key member is removed from the payload');
SELECT is((SELECT detail ->> 'body_prefix' FROM payments.webhook_logs),
          '{"order_id": "T-1", "signature_key": "[scrubbed]"',
          'and the signature in a kept body prefix is replaced');

SELECT * FROM finish();
ROLLBACK;
