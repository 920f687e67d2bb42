BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-va');   -- bank transfer started

SELECT is(test_helpers.gateway('T-1', 'capture', 'accept', 'tx-card') ->> 'decision', 'paid',
          'the customer switching to a card and paying pays the order');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid');
SELECT is((test_helpers.ord('T-1')).gateway_transaction_id, 'tx-card', 'the paying transaction is recorded');
SELECT is(test_helpers.gateway('T-1', 'expire', NULL, 'tx-va') ->> 'decision', 'stale_ignored',
          'the abandoned bank transfer expiring later changes nothing');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
