-- Rule: the action is dismiss, accept, refund or refunded_in_dashboard (PM009 otherwise); accept
-- only fulfils a paid_after_release order or takes an unpaid amount_mismatch
-- order's money as enough, any other accept raises PM012; nothing changes.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1');
SELECT test_helpers.gateway('T-2', 'settlement', NULL, 'tx-1', 150000);   -- paid, but more than the price

SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'chargeback', 'approve')$$, 'PM009', NULL,
                 'an unknown action raises PM009');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'chargeback', NULL)$$, 'PM009', NULL,
                 'a NULL action raises PM009');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'chargeback', 'accept')$$, 'PM012', NULL,
                 'accept has no meaning for a chargeback: PM012');
SELECT is(test_helpers.review('T-1'), 'chargeback', 'the review stays open');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the tickets stay');
SELECT is(test_helpers.status('T-2') || ' ' || test_helpers.review('T-2'), 'paid amount_mismatch',
          'T-2 is paid by an amount over its price');
SELECT throws_ok($$SELECT payments.resolve_review('T-2', 'amount_mismatch', 'accept')$$, 'PM012', NULL,
                 'accepting the amount of an order already paid raises PM012');
SELECT is((test_helpers.ord('T-2')).accepted_amount, NULL, 'no amount was accepted');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
