BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.force_status('T-1', 'paid');   -- foreign code marks the released order paid

CREATE TEMP TABLE result AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'flagged')::int FROM result), 1, 'the repair is counted as flagged');
SELECT is((SELECT (r ->> 'repaired')::int FROM result), 0, 'not as repaired');
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'the order is flagged paid_after_release');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing oversold');
SELECT is(test_helpers.outcomes('T-1', 'reconcile_fix_ticket_issued'), ARRAY['flagged'], 'logged as flagged');
SELECT is((payments.reconcile_local() ->> 'mismatches_found')::int, 0,
          'the next run leaves the flagged order to people');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
