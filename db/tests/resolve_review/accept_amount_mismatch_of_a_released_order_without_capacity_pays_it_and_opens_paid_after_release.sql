-- Rule: accepting the money of an amount_mismatch order whose capacity was
-- released and resold is a late payment like any other: the order becomes paid
-- on the money received, nothing is oversold, shortfall_at is set and
-- paid_after_release is opened for people (accept raises capacity, or refund).
-- The operator is never refused the acceptance because capacity is short.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);                         -- takes the released seats
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2', 99000);    -- late and short by 1000
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.review('T-1'), 'expired amount_mismatch',
          'setup: expired, money received short of the price, under review');

SELECT lives_ok($$SELECT payments.resolve_review('T-1', 'amount_mismatch', 'accept', 'take the 99000')$$,
                'accepting the money works although no capacity is free');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid on the money received');
SELECT is((test_helpers.ord('T-1')).accepted_amount::numeric, 99000.00, 'accepted_amount is recorded');
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'paid_after_release is opened');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.all_tickets('T-1'), '2/0 0', 'nothing is oversold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
