-- An expire never takes a payment back: an expire of the settled transaction
-- itself is stale (Midtrans cannot expire it), an expire of another attempt is
-- recorded and closes the window of an order that is already covered.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'expire', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'expire of the paying transaction is stale');
SELECT is(test_helpers.gateway('T-1', 'expire', NULL, 'tx-0') ->> 'decision', 'noop',
          'expire of an older attempt changes nothing');
SELECT is(test_helpers.ledger('T-1'), 'tx-0:32,tx-1:22', 'the paying transaction is not rewritten');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order stays paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'its tickets stay active');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'its capacity stays sold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
