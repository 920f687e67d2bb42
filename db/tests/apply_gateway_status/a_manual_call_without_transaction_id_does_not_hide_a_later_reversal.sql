BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

-- an operator re-runs the paid side-effects by hand, without a transaction id
SELECT is(payments.apply_gateway_status('T-1', 'settlement') ->> 'decision', 'noop',
          'a manual settlement on a paid order is a no-op');
SELECT is((test_helpers.ord('T-1')).gateway_transaction_id, 'tx-1', 'the paying transaction stays recorded');
SELECT is((test_helpers.ord('T-1')).gateway_status, 'settlement', 'with its own gateway status');
SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') ->> 'decision', 'reversed',
          'a later deny of the paying transaction is still a reversal');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'capacity returned');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
