BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2', 50000) ->> 'decision',
          'amount_mismatch', 'a late payment for the wrong amount is an amount mismatch');
SELECT is(test_helpers.status('T-1'), 'expired', 'the order stays expired');
SELECT is(test_helpers.review('T-1'), 'amount_mismatch', 'flagged amount_mismatch');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'no capacity taken');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
