-- A settlement of a pending order pays it: exactly quantity tickets issued,
-- reserved capacity moved to sold.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);

SELECT is(test_helpers.gateway('T-1', 'settlement') ->> 'decision', 'paid',
          'settlement on a pending order is decided "paid"');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid');
SELECT is(test_helpers.active_tickets('T-1'), 3::bigint, 'exactly quantity tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'capacity moved from reserved to sold');
SELECT isnt((SELECT tickets_issued_at FROM payments.orders WHERE order_number = 'T-1'), NULL,
            'tickets_issued_at marker is set');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
