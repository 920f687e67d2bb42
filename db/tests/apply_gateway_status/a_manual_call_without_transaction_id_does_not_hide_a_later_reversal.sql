-- Without Midtrans evidence (source manual, no status_code) only an expire
-- (closing the payment window) can be applied: a hand-made "settlement" is
-- refused with PM009 and writes nothing, so the ledger row of the paying
-- transaction stays as Midtrans left it and its later deny is still a
-- reversal.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

-- an operator tries to re-run the paid side-effects by hand, without a transaction id
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement')$$, 'PM009', NULL,
                 'a manual settlement without Midtrans evidence is refused');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, NULL, '200', 'manual')$$,
                 'PM009', NULL, 'a status from Midtrans without its transaction_id is refused too');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:22', 'the paying transaction stays recorded, alone');
SELECT is((test_helpers.tx('T-1', 'tx-1')).transaction_status, 'settlement', 'with its own gateway status');
SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') ->> 'decision', 'reversed',
          'a later deny of the paying transaction is still a reversal');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is pending again (its window is open)');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.active_tickets('T-1'), '2/0 0',
          'tickets voided, sold capacity back to the reservation');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
