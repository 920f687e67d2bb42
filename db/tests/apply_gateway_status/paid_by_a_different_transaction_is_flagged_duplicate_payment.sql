-- A second transaction paying an order already paid is recorded in its own
-- ledger row and opens duplicate_payment (the money is for a person to
-- return); the goods are not issued twice.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, (test_helpers.ord('P-1')).pickup_code AS pickup;

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2') ->> 'decision', 'flagged',
          'a second transaction paying a paid ticket order is flagged');
SELECT is(test_helpers.open_reviews('T-1'), 'duplicate_payment:tx-1,tx-2', 'flagged duplicate_payment (the subject lists the paid transactions)');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'no extra tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'nothing sold twice');
SELECT is(test_helpers.ledger('T-1'), 'tx-1:22,tx-2:22', 'both payments are in the ledger');
SELECT is(test_helpers.gateway('P-1', 'capture', 'accept', 'tx-2') ->> 'decision', 'flagged',
          'a duplicate payment of a product order too');
SELECT is(test_helpers.review('P-1'), 'duplicate_payment', 'flagged duplicate_payment');
SELECT is((test_helpers.ord('P-1')).pickup_code, (SELECT pickup FROM before), 'same pickup code');
SELECT is(test_helpers.variant_counts('V1'), '0/1', 'stock confirmed once');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
