BEGIN;
SELECT plan(3);

SELECT throws_ok($$SELECT payments.apply_gateway_status('NO-SUCH-ORDER', 'settlement', NULL, 100000,
                                                        'tx-1', '200', 'webhook')$$,
                 'PM001', NULL, 'an unknown order raises PM001');
SELECT throws_ok($$SELECT payments.apply_gateway_status(NULL, 'settlement')$$,
                 'PM001', NULL, 'a NULL order number raises PM001');
SELECT is_empty('SELECT * FROM payments.webhook_logs',
                'nothing is logged by the state machine for an order it does not know');

SELECT * FROM finish();
ROLLBACK;
