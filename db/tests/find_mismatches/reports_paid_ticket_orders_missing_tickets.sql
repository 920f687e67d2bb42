BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-OK', 'S1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-OK', 'settlement');
SELECT test_helpers.force_status('T-1', 'paid');   -- paid without side-effects

SELECT results_eq($$SELECT check_name, order_number, kind, status FROM payments.find_mismatches()$$,
                  $$VALUES ('paid_ticket_unfulfilled', 'T-1', 'ticket', 'paid')$$,
                  'check 1: a paid ticket order without tickets is reported, nothing else');
SELECT is((SELECT detail ->> 'tickets_issued_at' FROM payments.find_mismatches()), NULL,
          'the detail shows the missing marker');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'finding repairs nothing');
SELECT lives_ok('SELECT payments.reconcile_local()', 'reconcile_local repairs what was found');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
