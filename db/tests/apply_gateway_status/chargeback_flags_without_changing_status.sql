-- A chargeback, partial chargeback or partial refund of the paying transaction
-- only opens its review: the order stays paid, its goods stay out, no counter
-- moves (a person decides what goes back).
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-2', 'settlement', NULL, 'tx-2');
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-3');

SELECT is(test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1') ->> 'decision', 'flagged',
          'a chargeback is flagged');
SELECT is(test_helpers.status('T-1'), 'paid', 'the status is unchanged');
SELECT is(test_helpers.review('T-1'), 'chargeback', 'review reason chargeback');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'tickets stay active');
SELECT is(test_helpers.gateway('T-2', 'partial_chargeback', NULL, 'tx-2') ->> 'decision', 'flagged',
          'a partial chargeback is flagged');
SELECT is(test_helpers.review('T-2'), 'partial_chargeback', 'review reason partial_chargeback');
SELECT is(test_helpers.gateway('P-1', 'partial_refund', NULL, 'tx-3') ->> 'decision', 'flagged',
          'a partial refund is flagged');
SELECT is(test_helpers.status('P-1'), 'paid', 'the product order stays paid');
SELECT is(test_helpers.review('P-1'), 'partial_refund', 'review reason partial_refund');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '0/4 0/1',
          'no counter moves');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
