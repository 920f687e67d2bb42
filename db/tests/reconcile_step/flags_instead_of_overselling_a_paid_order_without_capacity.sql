-- Rule: a paid order (the ledger covers it) whose capacity was given to another
-- order is never oversold by reconciliation: the step logs it as flagged,
-- opens paid_after_release, sets shortfall_at, and later runs leave it to people.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
-- a late payment of tx-2 is in the ledger and the status says paid; its pay
-- effect never ran
SELECT test_helpers.paid_without_goods('T-1', 'tx-2');
SELECT is((test_helpers.ord('T-1')).repair, 'fix_ticket_issued', 'setup: T-1 needs its tickets');

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT totals ->> 'flagged' FROM run), '1', 'the repair is counted as flagged');
SELECT is((SELECT changed FROM run), 0, 'not as changed');
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'the order is flagged paid_after_release');
SELECT isnt((test_helpers.ord('T-1')).shortfall_at, NULL, 'shortfall_at is set');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing oversold');
SELECT is(test_helpers.outcomes('T-1', 'reconcile_fix_ticket_issued'), ARRAY['flagged'], 'logged as flagged');
SELECT is((SELECT checked FROM test_helpers.reconcile_all()), 0, 'the next run leaves the flagged order to people');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
