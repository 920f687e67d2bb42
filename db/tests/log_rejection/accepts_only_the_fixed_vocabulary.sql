-- Rule: payments.log_rejection records only the rejections of its fixed
-- vocabulary (body_too_large, malformed_json, missing_fields,
-- signature_invalid, unknown_order, rejected, confirmation_unavailable,
-- confirmation_not_found, confirmation_mismatch); any other event_type, a
-- decision's in particular, raises PM009 and writes nothing.
BEGIN;
SELECT plan(13);

SELECT lives_ok(format('SELECT payments.log_rejection(%L, %L)', e, 'T-404'), e || ' is accepted')
  FROM unnest(ARRAY['body_too_large', 'malformed_json', 'missing_fields', 'signature_invalid', 'unknown_order',
                    'rejected', 'confirmation_unavailable', 'confirmation_not_found',
                    'confirmation_mismatch']) AS e;
CREATE TEMP TABLE logs_before AS SELECT count(*) AS n FROM payments.webhook_logs;

SELECT throws_ok($$SELECT payments.log_rejection('gateway_status', 'T-1')$$, 'PM009', NULL,
                 'a gateway decision cannot be logged through it');
SELECT throws_ok($$SELECT payments.log_rejection('reconcile_fix_ticket_issued', 'T-1')$$, 'PM009', NULL,
                 'nor a repair');
SELECT throws_ok($$SELECT payments.log_rejection(NULL)$$, 'PM009', NULL, 'a NULL event_type raises PM009');
SELECT is((SELECT count(*) FROM payments.webhook_logs), (SELECT n FROM logs_before), 'nothing was written');

SELECT * FROM finish();
ROLLBACK;
