BEGIN;
SELECT plan(8);

-- tx-1 paid; tx-2 paid the same order again (flagged); then tx-1 is reversed
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'duplicate_payment',
          'a second payment is flagged');
SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-1') ->> 'decision', 'reversed_other_payment_stands',
          'reversing the first payment leaves the second standing');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order stays paid');
SELECT is((test_helpers.ord('T-1')).gateway_transaction_id, 'tx-2', 'now by the second transaction');
SELECT is(test_helpers.review('T-1'), NULL, 'and is no longer paid twice');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the tickets stay valid');
SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-2') ->> 'decision', 'refunded',
          'refunding the remaining payment refunds the order');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
