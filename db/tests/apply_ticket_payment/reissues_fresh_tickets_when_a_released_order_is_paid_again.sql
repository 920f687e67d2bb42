BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
CREATE TEMP TABLE before AS SELECT test_helpers.ticket_codes('T-1') AS codes;
SELECT test_helpers.gateway('T-1', 'deny', NULL, 'tx-1');
SELECT test_helpers.force_status('T-1', 'paid');   -- an operator re-opens the order by hand

CREATE TEMP TABLE result AS SELECT payments.apply_ticket_payment('T-1') AS r;
SELECT is((SELECT r ->> 'reacquired' FROM result), 'true', 'the released capacity is re-acquired');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, '2 active tickets again');
SELECT is(test_helpers.all_tickets('T-1'), 4::bigint, 'the 2 voided ones stay as history');
SELECT ok(NOT (test_helpers.ticket_codes('T-1') && (SELECT codes FROM before)),
          'voided codes are never reactivated');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'sold 2 again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
