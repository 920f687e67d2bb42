-- Rule: the caller of payments.log_rejection chooses the event_type, not what
-- it means: the outcome (the HTTP status answered) and signature_valid are
-- fixed per event_type, the source is always webhook and no run is attached;
-- the function has no parameter for any of them.
BEGIN;
SELECT plan(4);

SELECT payments.log_rejection(e, 'T-1', '{"reason": "x"}', '{"order_id": "T-1"}', 'settlement', '200')
  FROM unnest(ARRAY['body_too_large', 'malformed_json', 'missing_fields', 'signature_invalid', 'unknown_order',
                    'rejected', 'confirmation_unavailable', 'confirmation_not_found',
                    'confirmation_mismatch']) AS e;

SELECT results_eq($$SELECT event_type, outcome, signature_valid FROM payments.webhook_logs ORDER BY id$$,
                  $$VALUES ('body_too_large', '413', NULL::boolean), ('malformed_json', '400', NULL),
                           ('missing_fields', '400', NULL), ('signature_invalid', '403', false),
                           ('unknown_order', '404', true), ('rejected', '400', true),
                           ('confirmation_unavailable', '503', true), ('confirmation_not_found', '404', true),
                           ('confirmation_mismatch', '400', true)$$,
                  'each event_type carries its own outcome and signature_valid');
SELECT is((SELECT array_agg(DISTINCT source::text) FROM payments.webhook_logs), ARRAY['webhook'], 'source is webhook');
SELECT is((SELECT count(*) FROM payments.webhook_logs WHERE run_id IS NOT NULL), 0::bigint, 'no run attached');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'payments.log_rejection'::regproc),
          ARRAY['event_type', 'order_number', 'detail', 'payload', 'transaction_status', 'status_code'],
          'the only arguments: no outcome, signature_valid, source or run to choose');

SELECT * FROM finish();
ROLLBACK;
