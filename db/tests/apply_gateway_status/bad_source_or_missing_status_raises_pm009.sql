-- An unknown or NULL source, or a missing / blank transaction_status, raises
-- PM009 and touches nothing.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1',
                                                        '200', 'carrier-pigeon')$$,
                 'PM009', NULL, 'an unknown source raises PM009');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1',
                                                        '200', NULL)$$,
                 'PM009', NULL, 'a NULL source raises PM009');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', NULL)$$,
                 'PM009', NULL, 'a NULL transaction_status raises PM009');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', '  ')$$,
                 'PM009', NULL, 'a blank transaction_status raises PM009');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'whatever', NULL, 1, 'tx-1', '200', 'sync',
                                                        evidence => 'hearsay')$$,
                 'PM009', NULL, 'an unknown evidence raises PM009, even with an unknown status');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'sync',
                                                        evidence => 'hearsay')$$,
                 'PM009', NULL, 'and with a known one');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is untouched');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'its reservation is untouched');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
