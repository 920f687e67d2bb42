BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.force_status('T-1', 'paid');

SELECT is(payments.apply_ticket_payment('T-1') ->> 'tickets_issued', '3', 'first call issues 3 tickets');
SELECT test_helpers.backdate('T-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, (test_helpers.ord('T-1')).tickets_issued_at AS issued;
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'and finalizes 3');

SELECT is(payments.apply_ticket_payment('T-1'),
          '{"effect": "none", "reacquired": false, "tickets_issued": 0, "items_finalized": 0}'::jsonb,
          'second call does nothing');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'same tickets, same codes');
SELECT is(test_helpers.all_tickets('T-1'), 3::bigint, 'still 3 tickets in total');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'same counters');
SELECT is((test_helpers.ord('T-1')).tickets_issued_at, (SELECT issued FROM before), 'same marker');
SELECT is(test_helpers.ticket_seqs('T-1'), ARRAY[1, 2, 3], 'seq 1..quantity');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
