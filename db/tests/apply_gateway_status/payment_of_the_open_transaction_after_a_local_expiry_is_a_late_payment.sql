BEGIN;
SELECT plan(10);

-- The runner with PAYMENTS_EXPIRE_AT_MIDTRANS off expires an order locally
-- (no transaction_id) while its Midtrans transaction is still open; when the
-- customer then pays that transaction, the money must not be dropped as stale.
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-va');   -- bank transfer opened

SELECT is(payments.apply_gateway_status('T-1', 'expire', NULL, NULL, NULL, NULL, 'reconcile',
                                        '{"local_reason": "pending at Midtrans past expires_at"}')
              ->> 'decision', 'released', 'a local expiry without transaction_id releases');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'capacity released');
SELECT is((test_helpers.ord('T-1')).gateway_transaction_id, 'tx-va', 'the open transaction stays recorded');
SELECT is((test_helpers.ord('T-1')).gateway_status, 'pending',
          'with what Midtrans said about it: still pending');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-va') ->> 'decision', 'late_payment',
          'paying the still-open transaction is a late payment, not stale');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'tickets issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity re-acquired');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-va') ->> 'decision', 'noop',
          'its retry is a no-op');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
