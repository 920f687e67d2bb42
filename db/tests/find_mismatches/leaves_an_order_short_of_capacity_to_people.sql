-- Rule: a paid order short of capacity (shortfall_at, paid_after_release open)
-- is not a repair: find_mismatches leaves it to people. Other reviews do not
-- hide a repair: goods follow money, so a paid order under a chargeback review
-- that lost its tickets is still reported.
BEGIN;
SELECT plan(5);
SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.slot('S2', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');   -- paid_after_release
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'T-1 is paid without tickets, under review');
SELECT is_empty('SELECT * FROM payments.find_mismatches()',
                'an order short of capacity is not reported for automatic repair');

SELECT test_helpers.ticket_order('T-3', 'S2', 2);
SELECT test_helpers.gateway('T-3', 'settlement', NULL, 'tx-1'), test_helpers.gateway('T-3', 'chargeback', NULL, 'tx-1');
-- its tickets are voided by hand and the marker cleared: the goods are no longer out
UPDATE payments.tickets AS t SET status = 'void', voided_at = now()
  FROM payments.ticket_order_items AS i JOIN payments.orders AS o ON o.id = i.order_id
 WHERE t.order_item_id = i.id AND o.order_number = 'T-3';
UPDATE payments.orders SET tickets_issued_at = NULL WHERE order_number = 'T-3';
SELECT is(test_helpers.review('T-3'), 'chargeback', 'T-3 is under review for a chargeback');
SELECT results_eq($$SELECT check_name, order_number FROM payments.find_mismatches()$$,
                  $$VALUES ('fix_ticket_issued', 'T-3')$$,
                  'and still reported: its money stands, so its tickets are due');
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE subject = 'order T-1'$$,
                'the short order is not a violation');

SELECT * FROM finish();
ROLLBACK;
