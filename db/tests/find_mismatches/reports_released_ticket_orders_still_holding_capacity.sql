-- Rule: a failed / expired ticket order still holding capacity is reported as
-- release_capacity; finding releases nothing.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 2);
SELECT test_helpers.ticket_order('T-FAILED', 'S1', 1);
SELECT test_helpers.ticket_order('T-OK', 'S1', 1);
SELECT test_helpers.closed_without_release('T-EXPIRED', 'expire');
SELECT test_helpers.closed_without_release('T-FAILED', 'cancel');
SELECT test_helpers.gateway('T-OK', 'expire');

SELECT results_eq($$SELECT check_name, order_number, status FROM payments.find_mismatches()$$,
                  $$VALUES ('release_capacity', 'T-EXPIRED', 'expired'),
                           ('release_capacity', 'T-FAILED', 'failed')$$,
                  'failed / expired ticket orders still holding capacity are reported');
SELECT is(test_helpers.slot_counts('S1'), '3/0', 'finding releases nothing');
SELECT lives_ok('SELECT test_helpers.reconcile_all()', 'reconciliation repairs what was found');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
