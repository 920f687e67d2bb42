-- Rule: a paid ticket order (the ledger covers it) without its tickets is
-- reported as fix_ticket_issued with its markers; finding repairs nothing.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-OK', 'S1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-OK', 'settlement');
SELECT test_helpers.paid_without_goods('T-1');

SELECT results_eq($$SELECT check_name, order_number, kind, status FROM payments.find_mismatches()$$,
                  $$VALUES ('fix_ticket_issued', 'T-1', 'ticket', 'paid')$$,
                  'a paid ticket order without tickets is reported, nothing else');
SELECT is((SELECT detail ->> 'tickets_issued_at' FROM payments.find_mismatches()), NULL,
          'the detail shows the missing marker');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'finding repairs nothing');
SELECT lives_ok('SELECT test_helpers.reconcile_all()', 'reconciliation repairs what was found');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
