-- Rule: a paid ticket order (the ledger covers it) without quantity active
-- tickets per item is a violation (paid_ticket_order_fulfilled), whether no
-- ticket was ever issued or one vanished; re-running its pay effect heals it.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-NONE', 'S1', 2);
SELECT test_helpers.ticket_order('T-SHORT', 'S1', 2);
SELECT test_helpers.paid_without_goods('T-NONE');
SELECT test_helpers.gateway('T-SHORT', 'settlement');
-- one of T-SHORT's tickets vanished (voided by hand)
UPDATE payments.tickets SET status = 'void', voided_at = now()
 WHERE id = (SELECT min(id) FROM payments.tickets);

SELECT results_eq($$SELECT subject FROM payments.check_invariants()
                    WHERE invariant = 'paid_ticket_order_fulfilled' ORDER BY subject$$,
                  $$VALUES ('order T-NONE'), ('order T-SHORT')$$,
                  'paid orders without quantity active tickets are reported');
SELECT is((SELECT (detail ->> 'active_tickets')::int FROM payments.check_invariants()
            WHERE invariant = 'paid_ticket_order_fulfilled' AND subject = 'order T-SHORT'), 1,
          'with the active ticket count');
SELECT is((test_helpers.ord('T-SHORT')).repair, NULL,
          'a vanished ticket is not in the repair column (its markers are set): only the audit sees it');

-- repair: T-NONE by reconcile; T-SHORT by re-running its pay effect
SELECT test_helpers.reconcile_all();
SELECT is(payments_private.apply_ticket_payment(test_helpers.ord('T-SHORT')) ->> 'tickets_issued', '1',
          'the missing ticket is reissued');
SELECT is(test_helpers.active_tickets('T-NONE') || ' ' || test_helpers.active_tickets('T-SHORT'), '2 2',
          'both orders have their 2 tickets');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
