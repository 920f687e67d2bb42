-- Rule: payments_private.apply_ticket_payment issues only the tickets that are
-- missing and finalizes only the quantity not yet finalized, so a paid order
-- left half-fulfilled is completed without duplicates.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
-- paid in the ledger, but half-fulfilled by an earlier, interrupted effect: 1
-- of 3 finalized, 1 active ticket, counters consistent with that,
-- tickets_issued_at not yet set
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'T-1';
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = 'T-1';
UPDATE payments.ticket_order_items SET finalized_quantity = 1;
INSERT INTO payments.tickets (order_item_id, seq, code)
SELECT id, 1, 'EARLIER-TICKET-1' FROM payments.ticket_order_items;
UPDATE payments.ticket_slots SET reserved = 2, sold = 1 WHERE code = 'S1';
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE invariant = 'counter_drift'$$,
                'the half-done state is consistent (no counter drift)');

CREATE TEMP TABLE result AS SELECT payments_private.apply_ticket_payment(test_helpers.ord('T-1')) AS r;
SELECT is((SELECT r ->> 'tickets_issued' FROM result), '2', 'only the 2 missing tickets are issued');
SELECT is(test_helpers.active_tickets('T-1'), 3::bigint, '3 active tickets');
SELECT is(test_helpers.all_tickets('T-1'), 3::bigint, 'and no more than 3 in total');
SELECT is(test_helpers.ticket_seqs('T-1'), ARRAY[1, 2, 3], 'seqs continue after the existing one');
SELECT is((test_helpers.ticket_codes('T-1'))[1], 'EARLIER-TICKET-1', 'the existing ticket is kept');
SELECT is(test_helpers.slot_counts('S1'), '0/3', 'only the missing 2 are finalized: 0/3');
SELECT is(test_helpers.finalized('T-1'), 3::bigint, 'finalized_quantity = quantity');
SELECT isnt((test_helpers.ord('T-1')).tickets_issued_at, NULL, 'tickets_issued_at is set');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
