-- An order the database does not know raises PM001, from any source and for
-- a local close too; nothing is logged by the state machine for it.
BEGIN;
SELECT plan(4);

SELECT throws_ok($$SELECT payments.apply_gateway_status('NO-SUCH-ORDER', 'settlement', NULL, 100000,
                                                        'tx-1', '200', 'webhook')$$,
                 'PM001', NULL, 'an unknown order raises PM001');
SELECT throws_ok($$SELECT payments.apply_gateway_status(NULL, 'settlement', NULL, 100000, 'tx-1', '200', 'sync')$$,
                 'PM001', NULL, 'a NULL order number raises PM001');
SELECT throws_ok($$SELECT payments.apply_gateway_status('NO-SUCH-ORDER', 'expire')$$,
                 'PM001', NULL, 'a local expire of an unknown order raises PM001');
SELECT is_empty('SELECT * FROM payments.webhook_logs',
                'nothing is logged by the state machine for an order it does not know');

SELECT * FROM finish();
ROLLBACK;
