-- A cancel notification comes with 202; only the cancel call's own answer has
-- 200. A signed settlement (200) relabelled cancel cannot reverse a payment.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');

SELECT is(payments.apply_gateway_status('T-1', 'cancel', NULL, 100000, 'tx-1', '200', 'webhook') ->> 'decision',
          'status_inconsistent', 'cancel with 200 is refused as a notification');
SELECT is(payments.apply_gateway_status('T-1', 'deny', NULL, 100000, 'tx-1', '200', 'webhook') ->> 'decision',
          'status_inconsistent', 'and so is deny with 200');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order stays paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'its tickets stay active');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
