-- Rule: request_refund checks before anything is recorded: a bad amount,
-- reason or goods list is PM020, an order without a settled payment (or with
-- several and none named) PM021, more than what is left of the transaction
-- PM022, an unknown order PM001; nothing is recorded then.
BEGIN;
SELECT plan(13);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.ticket_order('T-2', 'S1', 1, 50000);
SELECT test_helpers.product_order('P-1', 'V1', 2, 75000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-p');

SELECT throws_ok($$SELECT payments.request_refund('T-1', 0)$$, 'PM020', NULL, 'amount 0: PM020');
SELECT throws_ok($$SELECT payments.request_refund('T-1', 10.005)$$, 'PM020', NULL, 'three decimals: PM020');
SELECT throws_ok($$SELECT payments.request_refund('T-1', 10, repeat('x', 256))$$, 'PM020', NULL,
                 'a reason over 255 characters: PM020');
SELECT throws_ok($$SELECT payments.request_refund('T-1', 10, goods => '{"tickets": ["NOT-A-CODE"]}')$$, 'PM020',
                 NULL, 'a ticket that is not one of the order''s: PM020');
SELECT throws_ok($$SELECT payments.request_refund('T-1', 10, goods => '{"restock": {"V1": 1}}')$$, 'PM020', NULL,
                 'restock on a ticket order: PM020');
SELECT throws_ok($$SELECT payments.request_refund('P-1', 10, goods => '{"restock": {"V1": 3}}')$$, 'PM020', NULL,
                 'more units than sold: PM020');
SELECT throws_ok($$SELECT payments.request_refund('T-2')$$, 'PM021', NULL, 'nothing settled: PM021');
SELECT throws_ok($$SELECT payments.request_refund('T-1', transaction_id => 'tx-9')$$, 'PM021', NULL,
                 'a transaction the order did not settle: PM021');
SELECT throws_ok($$SELECT payments.request_refund('T-1', 100000.01)$$, 'PM022', NULL,
                 'more than the transaction: PM022');
SELECT throws_ok($$SELECT payments.request_refund('NOPE')$$, 'PM001', NULL, 'unknown order: PM001');

SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');   -- a duplicate payment
SELECT throws_ok($$SELECT payments.request_refund('T-1')$$, 'PM021', NULL,
                 'two settled payments and none named: PM021');
SELECT is(payments.request_refund('T-1', transaction_id => 'tx-2') ->> 'transaction_id', 'tx-2',
          'naming one refunds that one');
SELECT is((SELECT count(*) FROM payments.refund_requests), 1::bigint, 'only the valid request was recorded');

SELECT * FROM finish();
ROLLBACK;
