BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');   -- paid_after_release
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'T-1 is paid without tickets, under review');

SELECT is_empty('SELECT * FROM payments.find_mismatches()',
                'an order flagged for review is not reported for automatic repair');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
