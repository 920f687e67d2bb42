-- The Status API and an action call's answer say what Midtrans holds now.
-- When that is behind the record, or a stage Midtrans cannot reach from it,
-- the record and Midtrans disagree: gateway_disagreement is opened for the
-- transaction (once) and nothing is rewritten: not the ledger row, not the
-- status, not the goods. The same answer as a notification is only stale.
BEGIN;
SELECT plan(15);

SELECT test_helpers.slot('S1', 20);
SELECT test_helpers.ticket_order('T-DENIED', 'S1', 2);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 2);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S1', 2);
SELECT test_helpers.gateway('T-DENIED', 'deny', NULL, 'tx-1');
SELECT test_helpers.gateway('T-PAID', 'settlement', NULL, 'tx-2');
SELECT test_helpers.gateway('T-REFUNDED', 'settlement', NULL, 'tx-3');
SELECT test_helpers.gateway('T-REFUNDED', 'refund', NULL, 'tx-3');
SELECT is(test_helpers.slot_counts('S1'), '2/2', 'denied: held; paid: sold; refunded: released');

-- deny -> expire: unreachable
SELECT is(test_helpers.gateway('T-DENIED', 'expire', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'an expire notification after a deny is only stale');
SELECT is(test_helpers.review('T-DENIED'), NULL, 'and flags nothing');
SELECT is(test_helpers.gateway('T-DENIED', 'expire', NULL, 'tx-1', NULL, 'sync') ->> 'decision',
          'gateway_disagreement', 'the Status API saying expire after a deny disagrees');
SELECT is(test_helpers.ledger('T-DENIED') || ' ' || test_helpers.status('T-DENIED'), 'tx-1:30 pending',
          'the deny is not rewritten and the window stays open');

-- settlement -> cancel from an action call: unreachable
SELECT is(payments.apply_gateway_status('T-PAID', 'cancel', NULL, 100000, 'tx-2', '200', 'manual',
                                        NULL, NULL, 'action') ->> 'decision',
          'gateway_disagreement', 'a cancel call answering cancel for a settled transaction disagrees');
SELECT is(test_helpers.ledger('T-PAID') || ' ' || test_helpers.status('T-PAID') || ' '
          || test_helpers.active_tickets('T-PAID'), 'tx-2:22 paid 2', 'the order stays paid with its tickets');

-- refund -> settlement: behind
SELECT is(test_helpers.gateway('T-REFUNDED', 'settlement', NULL, 'tx-3', NULL, 'reconcile') ->> 'decision',
          'gateway_disagreement', 'the Status API saying settlement after a refund disagrees');
SELECT is(test_helpers.ledger('T-REFUNDED') || ' ' || test_helpers.status('T-REFUNDED') || ' '
          || test_helpers.all_tickets('T-REFUNDED'), 'tx-3:41 refunded 2',
          'the refund is not rewritten, nothing is issued again (the 2 tickets are the voided ones)');
SELECT is(test_helpers.active_tickets('T-REFUNDED'), 0::bigint, 'no active ticket');

SELECT is(ARRAY[test_helpers.open_reviews('T-DENIED'), test_helpers.open_reviews('T-PAID'),
                test_helpers.open_reviews('T-REFUNDED')],
          ARRAY['gateway_disagreement:tx-1:expire', 'gateway_disagreement:tx-2:cancel', 'gateway_disagreement:tx-3:settlement'],
          'each order has gateway_disagreement open for its transaction');
SELECT is(test_helpers.gateway('T-DENIED', 'expire', NULL, 'tx-1', NULL, 'sync') ->> 'decision',
          'gateway_disagreement', 'the same answer again is logged as a disagreement again');
SELECT is((SELECT count(*) FROM payments.order_reviews WHERE reason = 'gateway_disagreement'), 3::bigint,
          'but opens no second review');
SELECT is(test_helpers.slot_counts('S1'), '2/2', 'no counter moved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
