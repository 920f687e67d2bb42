BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'refund', NULL, 'tx-2') ->> 'decision', 'flagged',
          'a refund of a transaction that did not pay this order is flagged');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order stays paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'its tickets stay active');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'its capacity stays sold');
SELECT is(test_helpers.review('T-1'), 'refund_other_transaction', 'flagged for review');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
