BEGIN;
SELECT plan(6);

-- the settlement webhook was lost; the first news of the payment is a partial refund
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway('T-1', 'partial_refund', NULL, 'tx-1');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'the late settlement of that transaction is stale');
SELECT is(test_helpers.review('T-1'), 'partial_refund', 'the order waits for a person');

SELECT is(payments.resolve_review('T-1', 'accept', 'partial refund of a paid order') ->> 'status', 'paid',
          'accept takes it as paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'and issues the tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity is finalized');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
