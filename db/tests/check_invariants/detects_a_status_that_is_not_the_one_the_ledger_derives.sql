-- Rule: an order's stored status is the one its ledger derives
-- (status_follows_ledger): a status written by foreign code is reported with
-- the derived status and the standing money, whichever way it is wrong.
BEGIN;
SELECT plan(4);
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-FORGED', 'S1', 1);
SELECT test_helpers.ticket_order('T-CLOSED', 'S1', 1);
SELECT test_helpers.ticket_order('T-OK', 'S1', 1);
SELECT test_helpers.gateway('T-CLOSED', 'settlement');
SELECT test_helpers.gateway('T-OK', 'cancel');
SELECT test_helpers.force_status('T-FORGED', 'paid');       -- no payment at all
SELECT test_helpers.force_status('T-CLOSED', 'refunded');   -- the payment stands, no refund anywhere

SELECT results_eq($$SELECT subject, detail FROM payments.check_invariants()
                    WHERE invariant = 'status_follows_ledger' ORDER BY subject$$,
                  $$VALUES ('order T-CLOSED', '{"status": "refunded", "derived": "paid", "standing": 100000}'::jsonb),
                           ('order T-FORGED', '{"status": "paid", "derived": "pending", "standing": 0}'::jsonb)$$,
                  'both forged statuses are reported with what the ledger derives');
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE subject = 'order T-OK'$$,
                'an order whose status follows its ledger is not');

SELECT test_helpers.force_status('T-FORGED', 'pending'), test_helpers.force_status('T-CLOSED', 'paid');
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE invariant = 'status_follows_ledger'$$,
                'gone once the statuses are what the ledger says');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
