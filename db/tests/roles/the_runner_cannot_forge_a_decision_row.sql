-- Rule: no caller can write a "gateway_status ... paid" row that was never
-- decided: the free-form payments.log_event is gone, log_rejection refuses
-- anything outside its rejection vocabulary, and the internal writer is not
-- granted; a decision row comes only from apply_gateway_status / expire_order.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT is_empty($$SELECT oid::regprocedure FROM pg_proc WHERE proname = 'log_event'$$,
                'there is no log_event function any more, in any schema');

SET LOCAL ROLE payments_runner;
SELECT throws_ok($$SELECT payments.log_rejection('gateway_status', 'T-1', '{"decision": "paid"}',
                                                 '{"transaction_status": "settlement"}', 'settlement', '200')$$,
                 'PM009', NULL, 'log_rejection cannot write a gateway_status row');
SELECT throws_ok($$SELECT payments.log_rejection('review_resolved', 'T-1')$$, 'PM009', NULL,
                 'nor an operator action');
SELECT throws_ok($$SELECT payments.log_rejection('sync_run')$$, 'PM009', NULL, 'nor a run summary');
SELECT throws_ok($$SELECT payments_private.write_log(NULL, 'webhook', 'gateway_status', 'paid', 'T-1', 'tx-1',
                                                     'settlement', NULL, '200', 100000, true, '{}', NULL, NULL)$$,
                 '42501', NULL, 'the internal writer is not granted');
RESET ROLE;

SELECT is_empty($$SELECT * FROM payments.webhook_logs WHERE event_type <> 'signature_invalid'$$,
                'no row was written');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is untouched');

SELECT * FROM finish();
ROLLBACK;
