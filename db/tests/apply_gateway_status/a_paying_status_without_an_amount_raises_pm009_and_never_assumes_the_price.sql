-- What a payment is checked against is the amount Midtrans says was paid.
-- A paying status without gross_amount (a hand-made call, a broken answer)
-- must not be taken as "the price was paid": it raises PM009 and changes
-- nothing. Statuses that move no money may omit it.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, NULL, 'tx-1', '200', 'sync')$$,
                 'PM009', NULL, 'a settlement without gross_amount raises PM009');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1'), 'pending 0', 'nothing is paid');
SELECT is((SELECT count(*) FROM payments.gateway_transactions), 0::bigint, 'nothing is recorded');

SELECT is(payments.apply_gateway_status('T-1', 'pending', NULL, NULL, 'tx-1', '201', 'sync') ->> 'new_status',
          'pending', 'a pending answer without an amount is recorded');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, NULL, 'tx-1', '200', 'sync')$$,
                 'PM009', NULL, 'and a settlement of that transaction still needs its amount');
SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 150000, 'tx-1', '200', 'sync') ->> 'new_status',
          'paid', 'with the amount it pays');

SELECT * FROM finish();
ROLLBACK;
