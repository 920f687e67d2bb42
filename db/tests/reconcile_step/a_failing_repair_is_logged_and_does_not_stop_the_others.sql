-- Rule: a repair that fails is rolled back to its savepoint, logged as
-- reconcile_error with its SQLSTATE and counted as failed in the run (which is
-- then not ok); the other orders are still repaired, and a later run repairs
-- the failed one once its cause is gone.
BEGIN;
SELECT plan(14);

SELECT test_helpers.slot('S-BROKEN', 10);
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-BROKEN', 'S-BROKEN', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.paid_without_goods('T-BROKEN');
SELECT test_helpers.paid_without_goods('T-1');
SELECT test_helpers.closed_without_release('T-2', 'expire');
-- the slot lost T-BROKEN's reservation: finalizing it would drive reserved negative
UPDATE payments.ticket_slots SET reserved = 0 WHERE code = 'S-BROKEN';

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT failed FROM run), 1, 'one repair failed');
SELECT is((SELECT changed FROM run), 2, 'the two others were repaired');
SELECT is((SELECT ok FROM run), false, 'the run is not ok');
SELECT isnt((SELECT error FROM run), NULL, 'and records why');
SELECT is((SELECT outcome FROM payments.webhook_logs WHERE event_type = 'reconcile_error'), '23514',
          'the failure is logged as reconcile_error with its SQLSTATE');
SELECT is((SELECT order_number || ' ' || (detail ->> 'repair') FROM payments.webhook_logs
            WHERE event_type = 'reconcile_error'), 'T-BROKEN fix_ticket_issued',
          'naming the order and the repair tried');
SELECT is((SELECT run_id FROM payments.webhook_logs WHERE event_type = 'reconcile_error'), (SELECT id FROM run),
          'under the run');
SELECT is(test_helpers.all_tickets('T-BROKEN'), 0::bigint, 'the failed repair left nothing half-done');
SELECT is(test_helpers.slot_counts('S-BROKEN'), '0/0', 'its slot is untouched');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the order after it was repaired');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'and T-2 released');

-- once the counter is put right, the next run repairs the broken order too
UPDATE payments.ticket_slots SET reserved = 2 WHERE code = 'S-BROKEN';
CREATE TEMP TABLE second AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT changed || '/' || failed || '/' || ok FROM second), '1/0/true', 'the next run repairs it, ok');
SELECT is(test_helpers.active_tickets('T-BROKEN'), 2::bigint, 'its tickets are issued');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
