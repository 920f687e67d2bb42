-- Rule: every way through the lifecycle (paid, reversed and held, reversed then
-- closed, refunded, paid late, charged back, challenged, expired) leaves the
-- books right: check_invariants returns nothing and the counters add up.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 6);
SELECT test_helpers.slot('S2', 8);
SELECT test_helpers.variant('V1', 5);
SELECT test_helpers.ticket_order('T-PENDING', 'S1', 1);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 2);
SELECT test_helpers.ticket_order('T-REVERSED', 'S2', 2);
SELECT test_helpers.ticket_order('T-CLOSED', 'S2', 1);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S2', 1);
SELECT test_helpers.ticket_order('T-LATE', 'S2', 3);
SELECT test_helpers.product_order('P-PAID', 'V1', 2);
SELECT test_helpers.product_order('P-EXPIRED', 'V1', 1);
SELECT test_helpers.product_order('P-FLAGGED', 'V1', 1);
SELECT test_helpers.gateway('T-PAID', 'pending'), test_helpers.gateway('T-PAID', 'settlement');
SELECT test_helpers.gateway('T-REVERSED', 'settlement'), test_helpers.gateway('T-REVERSED', 'deny');
SELECT test_helpers.gateway('T-CLOSED', 'settlement'), test_helpers.gateway('T-CLOSED', 'deny');
SELECT payments.expire_order('T-CLOSED');
SELECT test_helpers.gateway('T-REFUNDED', 'capture', 'accept'), test_helpers.gateway('T-REFUNDED', 'refund');
SELECT test_helpers.gateway('T-LATE', 'expire', NULL, 'tx-1'), test_helpers.gateway('T-LATE', 'settlement', NULL, 'tx-2');
SELECT test_helpers.gateway('P-PAID', 'settlement'), test_helpers.gateway('P-PAID', 'chargeback');
SELECT test_helpers.gateway('P-EXPIRED', 'expire');
SELECT test_helpers.gateway('P-FLAGGED', 'settlement', 'challenge');
SELECT test_helpers.reconcile_all();

SELECT is(ARRAY[test_helpers.status('T-PENDING'), test_helpers.status('T-PAID'), test_helpers.status('T-REVERSED'),
                test_helpers.status('T-CLOSED'), test_helpers.status('T-REFUNDED'), test_helpers.status('T-LATE'),
                test_helpers.status('P-PAID'), test_helpers.status('P-EXPIRED'), test_helpers.status('P-FLAGGED')],
          ARRAY['pending', 'paid', 'pending', 'expired', 'refunded', 'paid', 'paid', 'expired', 'pending'],
          'statuses after the lifecycle');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.slot_counts('S2') || ' '
          || test_helpers.variant_counts('V1'), '1/2 2/3 1/2',
          'counters: S1 1 pending + 2 paid; S2 2 held + 3 late; V1 1 challenged + 2 paid');
SELECT is((SELECT count(*) FROM payments.tickets WHERE status = 'active'), 5::bigint,
          'active tickets: 2 paid + 3 late');
SELECT is(ARRAY[test_helpers.review('T-REVERSED'), test_helpers.review('T-CLOSED'), test_helpers.review('P-PAID'),
                test_helpers.review('P-FLAGGED')],
          ARRAY['payment_reversed', 'payment_reversed', 'chargeback', 'fraud_challenge'],
          'the orders people must look at are under review');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold after a full lifecycle');

SELECT * FROM finish();
ROLLBACK;
