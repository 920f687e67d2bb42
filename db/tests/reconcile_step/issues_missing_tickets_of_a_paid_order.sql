-- Rule: a paid ticket order (the ledger covers it) without its tickets (repair
-- fix_ticket_issued) gets them and its capacity finalized by a reconcile step,
-- logged as reconcile_fix_ticket_issued / repaired with the run, the source
-- and the effect.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.paid_without_goods('T-1');
SELECT is((test_helpers.ord('T-1')).repair, 'fix_ticket_issued', 'setup: the repair column names the repair');

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT totals ->> 'reconcile_fix_ticket_issued' FROM run), '1', 'one ticket repair counted');
SELECT is(test_helpers.active_tickets('T-1'), 3::bigint, 'the 3 tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'capacity is finalized');
SELECT is(test_helpers.outcomes('T-1', 'reconcile_fix_ticket_issued'), ARRAY['repaired'],
          'logged as reconcile_fix_ticket_issued / repaired');
SELECT is((SELECT source FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_ticket_issued'),
          'reconcile', 'with source reconcile');
SELECT is((SELECT run_id FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_ticket_issued'),
          (SELECT id FROM run), 'and the run id');
SELECT is((SELECT detail #>> '{effect,tickets_issued}' FROM payments.webhook_logs
            WHERE event_type = 'reconcile_fix_ticket_issued'), '3', 'the detail carries the effect');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
