BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-NONE', 'S1', 2);
SELECT test_helpers.ticket_order('T-SHORT', 'S1', 2);
SELECT test_helpers.force_status('T-NONE', 'paid');
SELECT test_helpers.gateway('T-SHORT', 'settlement');
-- one of T-SHORT's tickets vanished (voided by hand)
UPDATE payments.tickets SET status = 'void', voided_at = now()
 WHERE id = (SELECT min(id) FROM payments.tickets);

SELECT results_eq($$SELECT subject FROM payments.check_invariants()
                    WHERE invariant = 'paid_ticket_order_fulfilled' ORDER BY subject$$,
                  $$VALUES ('order T-NONE'), ('order T-SHORT')$$,
                  'paid orders without quantity active tickets are reported');
SELECT is((SELECT (detail ->> 'active_tickets')::int FROM payments.check_invariants()
            WHERE subject = 'order T-SHORT'), 1, 'with the active ticket count');

-- repair: T-NONE by reconcile; T-SHORT by re-running its side-effect
SELECT payments.reconcile_local();
SELECT is(payments.apply_ticket_payment('T-SHORT') ->> 'tickets_issued', '1', 'the missing ticket is reissued');
SELECT is(test_helpers.active_tickets('T-SHORT'), 2::bigint, 'T-SHORT has 2 again');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
