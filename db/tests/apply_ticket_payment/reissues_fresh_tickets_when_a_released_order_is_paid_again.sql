-- Rule: when an order whose capacity was released (reversed, then expired) is
-- paid again by a new transaction, payments_private.apply_ticket_payment
-- re-acquires the quantity from free capacity and issues fresh tickets: the
-- voided codes stay void forever.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
CREATE TEMP TABLE before AS SELECT test_helpers.ticket_codes('T-1') AS codes;
SELECT test_helpers.gateway('T-1', 'deny', NULL, 'tx-1');    -- reversed: tickets voided, held
SELECT payments.expire_order('T-1');                          -- window closed: released
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.slot_counts('S1'), 'expired 0/0',
          'setup: the order is expired and holds nothing');

-- a new transaction pays: the ledger covers the order, its status is paid, the
-- pay effect has not run yet
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-2', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'T-1';
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = 'T-1';

CREATE TEMP TABLE result AS SELECT payments_private.apply_ticket_payment(test_helpers.ord('T-1')) AS r;
SELECT is((SELECT r ->> 'reacquired' FROM result), 'true', 'the released capacity is re-acquired');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, '2 active tickets again');
SELECT is(test_helpers.all_tickets('T-1'), 4::bigint, 'the 2 voided ones stay as history');
SELECT ok(NOT (test_helpers.ticket_codes('T-1') && (SELECT codes FROM before)),
          'voided codes are never reactivated');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'sold 2 again, from free capacity');
SELECT is((test_helpers.ord('T-1')).capacity_released_at, NULL, 'the order holds its capacity again');
-- the order stays under review for the reversed payment of tx-1 (people decide)
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
