-- Rule: a rejection never stores a signature a reader could replay: the
-- signature_key member is removed from the payload (and from a nested
-- notification), and the signature inside a kept body prefix is replaced.
BEGIN;
SELECT plan(4);

SELECT payments.log_rejection('signature_invalid', 'T-1',
    jsonb_build_object('body_prefix', '{"order_id": "T-1", "signature_key": "' || repeat('9f', 64) || '"'),
    jsonb_build_object('order_id', 'T-1', 'signature_key', repeat('9f', 64),
                       'notification', jsonb_build_object('signature_key', repeat('ab', 64), 'a', 1)));

SELECT is((SELECT payload FROM payments.webhook_logs), '{"order_id": "T-1", "notification": {"a": 1}}'::jsonb,
          'the signature_key members are removed from the payload');
SELECT is((SELECT detail ->> 'body_prefix' FROM payments.webhook_logs),
          '{"order_id": "T-1", "signature_key": "[scrubbed]"',
          'and the signature in a kept body prefix is replaced');
SELECT is_empty(format($$SELECT id FROM payments.webhook_logs
                         WHERE strpos(detail::text || coalesce(payload::text, ''), %L) > 0
                            OR strpos(detail::text || coalesce(payload::text, ''), %L) > 0$$,
                       repeat('9f', 64), repeat('ab', 64)),
                'no stored row holds either signature');
SELECT is((SELECT signature_valid FROM payments.webhook_logs), false, 'signature_valid false');

SELECT * FROM finish();
ROLLBACK;
