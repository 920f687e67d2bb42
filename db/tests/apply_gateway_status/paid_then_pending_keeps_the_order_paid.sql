-- A pending after a settlement of the same transaction is stale (it never
-- rewrites the ledger row); a pending of another transaction is recorded in
-- its own row. Neither changes a paid order.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.gateway('P-1', 'settlement');

SELECT is(test_helpers.gateway('T-1', 'pending') ->> 'decision', 'stale_ignored',
          'pending after settlement (same transaction) is stale');
SELECT is(test_helpers.gateway('T-1', 'pending', NULL, 'tx-9') ->> 'decision', 'noop',
          'pending of another transaction on a paid order changes nothing');
SELECT is(test_helpers.status('T-1'), 'paid', 'the ticket order stays paid');
SELECT is(test_helpers.active_tickets('T-1'), 3::bigint, 'its tickets stay active');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'its capacity stays sold');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:22,tx-9:10', 'a stale event does not rewrite the ledger row');
SELECT is(test_helpers.gateway('P-1', 'pending') ->> 'decision', 'stale_ignored',
          'pending after settlement on a product order is stale');
SELECT is(test_helpers.status('P-1'), 'paid', 'the product order stays paid');
SELECT is(test_helpers.variant_counts('V1'), '0/1', 'its stock stays sold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
