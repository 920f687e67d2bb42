-- Rule: apply_gateway_status (and expire_order) store no payload larger than
-- the max_payload_bytes setting: PM015 is raised before anything is decided,
-- so the ledger, the order, its goods and the log are unchanged; changing the
-- setting changes the bound.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
CREATE TEMP TABLE logs_before AS SELECT count(*) AS n FROM payments.webhook_logs;

SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'webhook',
                                                        jsonb_build_object('order_id', 'T-1', 'junk', repeat('x', 70000)))$$,
                 'PM015', NULL, 'a settlement with a 70 kB payload raises PM015');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is not paid');
SELECT is(test_helpers.active_tickets('T-1') || ' ' || test_helpers.slot_counts('S1'), '0 2/0', 'no goods moved');
SELECT is_empty('SELECT * FROM payments.gateway_transactions', 'the ledger is untouched');
SELECT is((SELECT count(*) FROM payments.webhook_logs), (SELECT n FROM logs_before), 'nothing is logged');
SELECT throws_ok($$SELECT payments.expire_order('T-1', 'manual', NULL, false, NULL,
                                                jsonb_build_object('junk', repeat('x', 70000)))$$,
                 'PM015', NULL, 'a local expiry with a 70 kB payload raises PM015 too');
SELECT is(test_helpers.status('T-1'), 'pending', 'and the order stays pending');

UPDATE payments.settings SET value = '200000' WHERE name = 'max_payload_bytes';
SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'webhook',
                                        jsonb_build_object('order_id', 'T-1', 'junk', repeat('x', 70000)))
              ->> 'decision', 'paid', 'with a larger max_payload_bytes the same settlement pays');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
