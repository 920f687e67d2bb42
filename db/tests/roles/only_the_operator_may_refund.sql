-- Rule: refunds are people's actions: payments_operator may request, record
-- and close refund requests and read them (as a reader); the runner role may
-- do none of it, and record_refund applies Midtrans' status for the operator
-- although the operator cannot call apply_gateway_status itself.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

SET LOCAL ROLE payments_runner;
SELECT throws_ok($$SELECT payments.request_refund('T-1')$$, '42501', NULL, 'the runner cannot request a refund');
SELECT throws_ok($$SELECT payments.record_refund(1, '{}')$$, '42501', NULL, 'nor record one');
SELECT throws_ok($$SELECT payments.close_refund_request(1, 'refused')$$, '42501', NULL, 'nor close one');
SELECT throws_ok($$SELECT count(*) FROM payments.refund_requests$$, '42501', NULL, 'nor read them');
RESET ROLE;

SET LOCAL ROLE payments_operator;
SELECT payments.request_refund('T-1', 1000) AS req \gset
SELECT is((SELECT state FROM payments.refund_requests), 'requested', 'the operator requests and reads refunds');
SELECT is(payments.record_refund((:'req'::jsonb ->> 'request_id')::bigint,
              jsonb_build_object('status_code', '200', 'transaction_status', 'partial_refund',
                                 'refund_key', :'req'::jsonb ->> 'refund_key'),
              '{"status_code": "200", "transaction_status": "partial_refund", "transaction_id": "tx-1",
                "gross_amount": "100000.00", "refund_amount": "1000.00"}') ->> 'applied', 'flagged',
          'and records one, Midtrans'' status applied');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-1', 'refund', NULL, 100000, 'tx-1', '200')$$,
                 '42501', NULL, 'while apply_gateway_status stays the runner''s');
RESET ROLE;
SELECT is((SELECT refund_amount::numeric FROM payments.gateway_transactions), 1000.00, 'the ledger has the refund');

SELECT * FROM finish();
ROLLBACK;
