-- Rule: resolving a review with refund needs money that went back through
-- the Refund API: a refund request of the order that succeeded since the
-- review opened (PM012 otherwise, naming refunded_in_dashboard for a refund
-- made in the dashboard). It then closes the review and links the request;
-- the order keeps the status its ledger derives (a partial refund: paid).
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', 110000);   -- overpaid: amount_mismatch
SELECT is(test_helpers.review('T-1'), 'amount_mismatch', 'setup: under review');

SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'amount_mismatch', 'refund')$$, 'PM012', NULL,
                 'no refund at Midtrans yet: PM012');
SELECT payments.request_refund('T-1', 10000, 'overpaid') AS req \gset
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'amount_mismatch', 'refund')$$, 'PM012', NULL,
                 'a request whose answer is unknown is not a refund');
SELECT payments.record_refund((:'req'::jsonb ->> 'request_id')::bigint,
    jsonb_build_object('status_code', '200', 'transaction_status', 'partial_refund', 'refund_key', :'req'::jsonb ->> 'refund_key'));
SELECT is(payments.resolve_review('T-1', 'amount_mismatch', 'refund') ->> 'refund_request',
          :'req'::jsonb ->> 'request_id', 'after the recorded refund it resolves, naming the request');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1'), 'paid 2',
          'the order stays paid with its tickets');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
