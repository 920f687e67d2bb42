BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 6);
SELECT test_helpers.slot('S2', 6);
SELECT test_helpers.variant('V1', 5);
SELECT test_helpers.ticket_order('T-PENDING', 'S1', 1);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 2);
SELECT test_helpers.ticket_order('T-REVERSED', 'S2', 2);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S2', 1);
SELECT test_helpers.ticket_order('T-LATE', 'S2', 3);
SELECT test_helpers.product_order('P-PAID', 'V1', 2);
SELECT test_helpers.product_order('P-EXPIRED', 'V1', 1);
SELECT test_helpers.product_order('P-FLAGGED', 'V1', 1);
SELECT test_helpers.gateway('T-PAID', 'pending'), test_helpers.gateway('T-PAID', 'settlement');
SELECT test_helpers.gateway('T-REVERSED', 'settlement'), test_helpers.gateway('T-REVERSED', 'deny');
SELECT test_helpers.gateway('T-REFUNDED', 'capture', 'accept'), test_helpers.gateway('T-REFUNDED', 'refund');
SELECT test_helpers.gateway('T-LATE', 'expire', NULL, 'tx-1'), test_helpers.gateway('T-LATE', 'settlement', NULL, 'tx-2');
SELECT test_helpers.gateway('P-PAID', 'settlement'), test_helpers.gateway('P-PAID', 'chargeback');
SELECT test_helpers.gateway('P-EXPIRED', 'expire');
SELECT test_helpers.gateway('P-FLAGGED', 'settlement', 'challenge');
SELECT payments.reconcile_local();

SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.slot_counts('S2') || ' '
          || test_helpers.variant_counts('V1'), '1/2 0/3 1/2', 'counters after the lifecycle');
SELECT is((SELECT count(*) FROM payments.tickets WHERE status = 'active'), 5::bigint,
          'active tickets: 2 paid + 3 late');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold after a full lifecycle');

SELECT * FROM finish();
ROLLBACK;
