-- Rule: payments_private.apply_ticket_payment is idempotent: a second call on
-- a fulfilled order issues nothing, finalizes nothing and keeps the marker.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
-- paid in the ledger, the pay effect not run yet
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'T-1';
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = 'T-1';

SELECT is(payments_private.apply_ticket_payment(test_helpers.ord('T-1')) ->> 'tickets_issued', '3',
          'first call issues 3 tickets');
SELECT test_helpers.backdate('T-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, (test_helpers.ord('T-1')).tickets_issued_at AS issued;
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'and finalizes 3');

SELECT is(payments_private.apply_ticket_payment(test_helpers.ord('T-1')),
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
