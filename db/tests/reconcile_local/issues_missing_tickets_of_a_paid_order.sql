BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.force_status('T-1', 'paid');   -- paid by foreign code, no side-effects

CREATE TEMP TABLE result AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'reconcile_fix_ticket_issued')::int FROM result), 1, 'one ticket repair counted');
SELECT is(test_helpers.active_tickets('T-1'), 3::bigint, 'the 3 tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'capacity is finalized');
SELECT is(test_helpers.outcomes('T-1', 'reconcile_fix_ticket_issued'), ARRAY['repaired'],
          'logged as reconcile_fix_ticket_issued / repaired');
SELECT is((SELECT source FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_ticket_issued'),
          'reconcile', 'with source reconcile');
SELECT is((SELECT run_id FROM payments.webhook_logs WHERE event_type = 'reconcile_fix_ticket_issued'),
          (SELECT (r ->> 'run_id')::bigint FROM result), 'and the run id');
SELECT is((SELECT detail ->> 'tickets_issued' FROM payments.webhook_logs
            WHERE event_type = 'reconcile_fix_ticket_issued'), '3', 'the detail carries the effect');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
