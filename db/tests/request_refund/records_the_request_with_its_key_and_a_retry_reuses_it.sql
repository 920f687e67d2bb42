-- Rule: request_refund records the request (refund_key, amount = what is
-- left unless given, the settled transaction, session_user) before Midtrans
-- is called; while it is open, the same request returns it with the same key
-- (a retry after a timeout refunds at most once), another one is PM023.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');

SELECT payments.request_refund('T-1', reason => 'show cancelled') AS first \gset
SELECT is(:'first'::jsonb ->> 'amount', '100000.00', 'the amount defaults to everything left of the transaction');
SELECT is(:'first'::jsonb ->> 'transaction_id', 'tx-1', 'the settled transaction');
SELECT matches(:'first'::jsonb ->> 'refund_key', '^rf-[0-9]+-[0-9a-f]{16}$', 'a key Midtrans accepts');
SELECT is((SELECT state || ' ' || requested_by FROM payments.refund_requests), 'requested ' || session_user,
          'recorded as requested, by session_user');
SELECT is((:'first'::jsonb ->> 'reused')::boolean, false, 'a new request');

SELECT payments.request_refund('T-1') AS again \gset
SELECT is(:'again'::jsonb ->> 'refund_key', :'first'::jsonb ->> 'refund_key', 'a retry reuses the open key');
SELECT is((:'again'::jsonb ->> 'reused')::boolean, true, 'and says so');
SELECT is(payments.request_refund('T-1', 100000, NULL, 'tx-1') ->> 'request_id', :'first'::jsonb ->> 'request_id',
          'the same arguments spelled out are the same request');
SELECT throws_ok($$SELECT payments.request_refund('T-1', 5000)$$, 'PM023', NULL,
                 'another amount while one is open: PM023');
SELECT is((SELECT count(*) FROM payments.refund_requests), 1::bigint, 'one request');
SELECT is(test_helpers.outcomes('T-1', 'refund_requested'), ARRAY['requested'], 'logged once');

SELECT * FROM finish();
ROLLBACK;
