BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S-BROKEN', 10);
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-BROKEN', 'S-BROKEN', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.force_status('T-BROKEN', 'paid');
SELECT test_helpers.force_status('T-1', 'paid');
SELECT test_helpers.force_status('T-2', 'expired');
-- the slot lost T-BROKEN's reservation: finalizing it would drive reserved negative
UPDATE payments.ticket_slots SET reserved = 0 WHERE code = 'S-BROKEN';

CREATE TEMP TABLE result AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'errors')::int FROM result), 1, 'one repair failed');
SELECT is((SELECT (r ->> 'repaired')::int FROM result), 2, 'the two others were repaired');
SELECT is((SELECT outcome FROM payments.webhook_logs WHERE event_type = 'reconcile_error'), '23514',
          'the failure is logged as reconcile_error with its SQLSTATE');
SELECT is((SELECT order_number || ' ' || (detail ->> 'repair') FROM payments.webhook_logs
            WHERE event_type = 'reconcile_error'), 'T-BROKEN reconcile_fix_ticket_issued',
          'naming the order and the repair tried');
SELECT is(test_helpers.all_tickets('T-BROKEN'), 0::bigint, 'the failed repair left nothing half-done');
SELECT is(test_helpers.slot_counts('S-BROKEN'), '0/0', 'its slot is untouched');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the order after it was repaired');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'and T-2 released');

-- once the counter is put right, the next run repairs the broken order too
UPDATE payments.ticket_slots SET reserved = 2 WHERE code = 'S-BROKEN';
SELECT is((payments.reconcile_local() ->> 'repaired')::int, 1, 'the next run repairs it');
SELECT is(test_helpers.active_tickets('T-BROKEN'), 2::bigint, 'its tickets are issued');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
