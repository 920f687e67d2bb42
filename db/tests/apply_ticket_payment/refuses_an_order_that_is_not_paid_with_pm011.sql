BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-PENDING', 'S1', 1);
SELECT test_helpers.ticket_order('T-FAILED', 'S1', 1);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S1', 1);
SELECT test_helpers.gateway('T-FAILED', 'deny');
SELECT test_helpers.gateway('T-REFUNDED', 'refund');

SELECT throws_ok($$SELECT payments.apply_ticket_payment('T-PENDING')$$, 'PM011', NULL,
                 'a pending order cannot be fulfilled');
SELECT throws_ok($$SELECT payments.apply_ticket_payment('T-FAILED')$$, 'PM011', NULL,
                 'a failed order cannot be fulfilled');
SELECT throws_ok($$SELECT payments.apply_ticket_payment('T-REFUNDED')$$, 'PM011', NULL,
                 'a refunded order cannot be fulfilled');
SELECT is((SELECT count(*) FROM payments.tickets), 0::bigint, 'no tickets were issued');
SELECT is(test_helpers.slot_counts('S1'), '1/0', 'only the pending order holds capacity');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
