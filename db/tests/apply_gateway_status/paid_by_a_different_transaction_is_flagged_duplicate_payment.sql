BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, (test_helpers.ord('P-1')).pickup_code AS pickup;

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'duplicate_payment',
          'a second transaction paying a paid ticket order is a duplicate payment');
SELECT is(test_helpers.review('T-1'), 'duplicate_payment', 'flagged duplicate_payment');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'no extra tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'nothing sold twice');
SELECT is((test_helpers.ord('T-1')).gateway_transaction_id, 'tx-1',
          'the first paying transaction stays recorded');
SELECT is(test_helpers.gateway('P-1', 'capture', 'accept', 'tx-2') ->> 'decision', 'duplicate_payment',
          'a duplicate payment of a product order too');
SELECT is((test_helpers.ord('P-1')).pickup_code, (SELECT pickup FROM before), 'same pickup code');
SELECT is(test_helpers.variant_counts('V1'), '0/1', 'stock confirmed once');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
