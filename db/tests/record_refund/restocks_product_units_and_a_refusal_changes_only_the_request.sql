-- Rule: a partial refund of a product order restocks the named units (sold
-- back to free stock, the item's quantity down, the pickup code kept);
-- close_refund_request marks a refused request and changes nothing else.
-- An item whose every unit went back keeps quantity 0, and reconciliation
-- finds nothing to repair.
BEGIN;
SELECT plan(11);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 2, 75000);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.fingerprint('P-1') AS before \gset

SELECT payments.request_refund('P-1', 30000) AS refused \gset
SELECT is(payments.close_refund_request((:'refused'::jsonb ->> 'request_id')::bigint, 'refused',
          '{"status_code": "412", "status_message": "Refund is rejected: the refund window has passed"}') ->> 'state',
          'refused', 'Midtrans refused: the request is refused');
SELECT is(test_helpers.fingerprint('P-1'), :'before', 'and the order is unchanged');
SELECT throws_ok(format($$SELECT payments.close_refund_request(%s, 'accepted')$$, :'refused'::jsonb ->> 'request_id'),
                 'PM020', NULL, 'a state other than refused / failed: PM020');

SELECT payments.request_refund('P-1', 37500, goods => '{"restock": {"V1": 1}}') AS req \gset
SELECT payments.record_refund((:'req'::jsonb ->> 'request_id')::bigint,
    jsonb_build_object('status_code', '200', 'transaction_status', 'partial_refund', 'refund_key', :'req'::jsonb ->> 'refund_key'),
    NULL);
SELECT is(test_helpers.variant_counts('V1'), '0/1', 'one unit back on sale');
SELECT is((SELECT quantity || '/' || finalized_quantity FROM payments.product_order_items), '1/1', 'one stays sold');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'the pickup code stays for what is left');
SELECT is((SELECT array_agg(state ORDER BY id) FROM payments.refund_requests), ARRAY['refused', 'succeeded'],
          'both requests are kept');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT payments.request_refund('P-1', 37500, goods => '{"restock": {"V1": 1}}') AS last \gset
SELECT payments.record_refund((:'last'::jsonb ->> 'request_id')::bigint,
    jsonb_build_object('status_code', '200', 'transaction_status', 'partial_refund', 'refund_key', :'last'::jsonb ->> 'refund_key'),
    NULL);
SELECT is((SELECT quantity || '/' || finalized_quantity FROM payments.product_order_items), '0/0',
          'every unit went back: quantity 0');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'reconciliation finds nothing to repair');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants still hold');

SELECT * FROM finish();
ROLLBACK;
