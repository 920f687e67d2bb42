-- Rule: record_refund, in one transaction, applies the Status API's answer
-- through apply_gateway_status (evidence status_api), returns the named goods
-- of a partial refund (tickets voided, item and slot counters down, the rest
-- kept), closes the transaction's partial_refund review as decided and the
-- request as succeeded; a full refund releases everything by the status.
-- The same request cannot be recorded twice (PM024); an answer for another
-- refund_key is not this refund's (PM020).
BEGIN;
SELECT plan(16);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3, 150000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT min(t.id) AS ticket FROM payments.tickets AS t \gset

SELECT payments.request_refund('T-1', 50000, 'one seat', goods => jsonb_build_object('tickets', jsonb_build_array(:ticket))) AS req \gset
SELECT throws_ok(format($$SELECT payments.record_refund(%s, '{"status_code": "200", "transaction_status": "partial_refund", "refund_key": "other"}')$$,
                        :'req'::jsonb ->> 'request_id'), 'PM020', NULL, 'an answer for another key: PM020');
SELECT payments.record_refund((:'req'::jsonb ->> 'request_id')::bigint,
    jsonb_build_object('status_code', '200', 'transaction_status', 'partial_refund', 'refund_amount', '50000.00',
                       'refund_key', :'req'::jsonb ->> 'refund_key', 'signature_key', 'secret'),
    jsonb_build_object('status_code', '200', 'transaction_status', 'partial_refund', 'transaction_id', 'tx-1',
                       'gross_amount', '150000.00', 'refund_amount', '50000.00',
                       'refunds', jsonb_build_array(jsonb_build_object('refund_amount', '50000.00',
                                                                      'created_at', '2026-11-30 10:00:00'))))
    AS rec \gset
SELECT is(:'rec'::jsonb ->> 'applied', 'flagged', 'the status went through apply_gateway_status');
SELECT is(test_helpers.status('T-1'), 'paid', 'a partial refund keeps the order paid');
SELECT is((SELECT refund_amount::numeric FROM payments.gateway_transactions), 50000.00, 'the ledger has the refund');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the named ticket is voided, two stay');
SELECT is((SELECT status FROM payments.tickets WHERE id = :ticket), 'void', 'it is the named one');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'its seat is free again');
SELECT is((SELECT quantity || '/' || finalized_quantity FROM payments.ticket_order_items), '2/2',
          'the item gave up one unit');
SELECT is(test_helpers.review_state('T-1', 'partial_refund'), 'dismiss', 'the partial_refund review is decided');
SELECT is((SELECT state FROM payments.refund_requests), 'succeeded', 'the request succeeded');
SELECT is((SELECT answer ? 'signature_key' FROM payments.refund_requests), false, 'its answer is scrubbed');
SELECT throws_ok(format('SELECT payments.record_refund(%s, %L)', :'req'::jsonb ->> 'request_id', '{}'),
                 'PM024', NULL, 'a finished request cannot be recorded again: PM024');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold after a partial refund');

-- the rest, in full: the status releases everything
SELECT payments.request_refund('T-1') AS req2 \gset
SELECT payments.record_refund((:'req2'::jsonb ->> 'request_id')::bigint,
    jsonb_build_object('status_code', '200', 'transaction_status', 'refund', 'refund_key', :'req2'::jsonb ->> 'refund_key'),
    jsonb_build_object('status_code', '200', 'transaction_status', 'refund', 'transaction_id', 'tx-1',
                       'gross_amount', '150000.00', 'refund_amount', '150000.00',
                       'refunds', jsonb_build_array(jsonb_build_object('refund_amount', '100000.00',
                                                                      'created_at', '2026-11-30 11:00:00'))));
SELECT is(test_helpers.status('T-1'), 'refunded', 'a full refund refunds the order');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'and releases what it held');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold after the full refund');

SELECT * FROM finish();
ROLLBACK;
