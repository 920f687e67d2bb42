BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1');

SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'approve')$$, 'PM009', NULL,
                 'an unknown action raises PM009');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', NULL)$$, 'PM009', NULL, 'a NULL action raises PM009');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'accept')$$, 'PM012', NULL,
                 'accept has no meaning for a chargeback: PM012');
SELECT is(test_helpers.review('T-1'), 'chargeback', 'the flag stays');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the tickets stay');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
