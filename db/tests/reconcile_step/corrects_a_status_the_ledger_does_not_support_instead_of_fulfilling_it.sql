-- Rule: reconcile_step re-derives the status from the ledger before any goods
-- effect: a status written by foreign code that no payment in the ledger
-- supports is corrected (outcome corrected), never fulfilled; a status closed
-- by foreign code while the ledger still covers the order is corrected back to paid.
BEGIN;
SELECT plan(13);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.slot('S2', 10);
SELECT test_helpers.ticket_order('T-FORGED', 'S1', 2);
SELECT test_helpers.ticket_order('T-PAID', 'S2', 2);
SELECT test_helpers.gateway('T-PAID', 'settlement');
SELECT test_helpers.force_status('T-FORGED', 'paid');     -- foreign code: paid, no payment at all
SELECT test_helpers.force_status('T-PAID', 'failed');     -- foreign code: failed, the payment stands
SELECT is(ARRAY[(test_helpers.ord('T-FORGED')).repair, (test_helpers.ord('T-PAID')).repair],
          ARRAY['fix_ticket_issued', 'release_capacity'], 'setup: both look like repairs');

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is(test_helpers.status('T-FORGED'), 'pending', 'the forged paid is corrected to what the ledger says');
SELECT is(test_helpers.all_tickets('T-FORGED'), 0::bigint, 'no ticket is issued for money never received');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'its capacity stays reserved, nothing sold');
SELECT is(test_helpers.outcomes('T-FORGED', 'reconcile_fix_ticket_issued'), ARRAY['corrected'],
          'logged as corrected');
SELECT is((SELECT detail ->> 'previous_status' || ' -> ' || (detail ->> 'status') FROM payments.webhook_logs
            WHERE order_number = 'T-FORGED' AND event_type = 'reconcile_fix_ticket_issued'),
          'paid -> pending', 'with the status it had and the one derived');
SELECT is(test_helpers.status('T-PAID'), 'paid', 'the forged failed of a paid order is corrected back to paid');
SELECT is(test_helpers.active_tickets('T-PAID'), 2::bigint, 'its tickets stay active');
SELECT is(test_helpers.slot_counts('S2'), '0/2', 'its capacity stays sold');
SELECT is(test_helpers.outcomes('T-PAID', 'reconcile_release_capacity'), ARRAY['corrected'],
          'logged as corrected');
SELECT is((SELECT changed FROM run), 2, 'both count as changed in the run');
SELECT is((SELECT checked FROM test_helpers.reconcile_all()), 0, 'nothing is left for the next run');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
