-- A status Midtrans does not have (or an unknown fraud_status) is logged as
-- unknown_status and changes nothing: no ledger row, no status, no counter.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-2', 'settlement', NULL, 'tx-2');

SELECT is(test_helpers.gateway('T-1', 'settled_maybe', NULL, 'tx-1') ->> 'decision', 'unknown_status',
          'an unknown status on a pending order is decided unknown_status');
SELECT is(test_helpers.gateway('T-2', 'something_new', NULL, 'tx-2') ->> 'decision', 'unknown_status',
          'an unknown status on a paid order is decided unknown_status');
SELECT is(test_helpers.gateway('T-1', 'settlement', 'whatever', 'tx-1') ->> 'decision', 'unknown_status',
          'a settlement with an unknown fraud_status is not taken as paid');
SELECT is(test_helpers.status('T-1'), 'pending', 'pending stays pending');
SELECT is(test_helpers.status('T-2'), 'paid', 'paid stays paid');
SELECT is(test_helpers.ledger('T-1'), NULL, 'an unknown status is not recorded in the ledger');
SELECT is(test_helpers.slot_counts('S1'), '2/2', 'no counter moves');
SELECT is((SELECT array_agg(transaction_status ORDER BY id) FROM payments.webhook_logs
            WHERE order_number = 'T-1'),
          ARRAY['settled_maybe', 'settlement'], 'the raw statuses are logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
