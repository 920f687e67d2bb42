-- Rule: a healthy shop (every order's goods follow its status, whatever its
-- history) has no mismatches.
BEGIN;
SELECT plan(2);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-PENDING', 'S1', 1);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 2);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 2);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S1', 2);
SELECT test_helpers.ticket_order('T-LATE', 'S1', 1);
SELECT test_helpers.ticket_order('T-REVERSED', 'S1', 1);
SELECT test_helpers.product_order('P-PAID', 'V1', 2);
SELECT test_helpers.product_order('P-FAILED', 'V1', 2);
SELECT test_helpers.gateway('T-PAID', 'settlement');
SELECT test_helpers.gateway('T-EXPIRED', 'expire');
SELECT test_helpers.gateway('T-REFUNDED', 'settlement'), test_helpers.gateway('T-REFUNDED', 'refund');
SELECT test_helpers.gateway('T-LATE', 'expire', NULL, 'tx-1'), test_helpers.gateway('T-LATE', 'settlement', NULL, 'tx-2');
SELECT test_helpers.gateway('P-PAID', 'capture', 'accept');
SELECT test_helpers.gateway('P-FAILED', 'cancel');
SELECT test_helpers.gateway('T-REVERSED', 'settlement'), test_helpers.gateway('T-REVERSED', 'deny');   -- held, pending

SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'a healthy shop has no mismatches');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
