-- A captured card payment cancelled (voided) before settlement: Midtrans can
-- do that (capture -> cancel), a cancel closes the payment window, so the
-- order is failed and everything is released; the money never settled, so no
-- review. A failure after a settlement is a move Midtrans cannot make: a
-- notification saying so is stale and the order stays paid.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-CANCEL', 'S1', 2);
SELECT test_helpers.ticket_order('T-FAILURE', 'S1', 2);
SELECT test_helpers.gateway('T-CANCEL', 'capture', 'accept', 'tx-c');
SELECT test_helpers.gateway('T-FAILURE', 'settlement', NULL, 'tx-f');

SELECT is(test_helpers.gateway('T-CANCEL', 'cancel', NULL, 'tx-c') ->> 'decision', 'reversed',
          'cancel of the captured transaction reverses the payment');
SELECT is(test_helpers.status('T-CANCEL'), 'failed', 'the order is failed (the window is closed)');
SELECT is(test_helpers.active_tickets('T-CANCEL'), 0::bigint, 'its tickets are voided');
SELECT is(test_helpers.review('T-CANCEL'), NULL, 'a void before settlement needs no review');

SELECT is(test_helpers.gateway('T-FAILURE', 'failure', NULL, 'tx-f') ->> 'decision', 'stale_ignored',
          'a failure of the settled transaction is stale');
SELECT is(test_helpers.status('T-FAILURE'), 'paid', 'that order stays paid');
SELECT is(test_helpers.active_tickets('T-FAILURE'), 2::bigint, 'with its tickets');
SELECT is(test_helpers.ledger('T-CANCEL') || ' ' || test_helpers.ledger('T-FAILURE'), 'tx-c:31 tx-f:22',
          'the cancel is recorded, the settlement is not rewritten');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'only the paid order''s seats are sold, nothing held');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
