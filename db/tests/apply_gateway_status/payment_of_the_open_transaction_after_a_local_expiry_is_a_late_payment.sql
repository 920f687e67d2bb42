-- The runner with PAYMENTS_EXPIRE_AT_MIDTRANS off expires an order locally
-- (no transaction_id, no status_code: evidence local, the window closes) while
-- its Midtrans transaction is still open; when the customer then pays that
-- transaction, the money must not be dropped as stale: it is a late payment.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'pending', NULL, 'tx-va');   -- bank transfer opened

SELECT is(payments.apply_gateway_status('T-1', 'expire', NULL, NULL, NULL, NULL, 'reconcile',
                                        '{"local_reason": "pending at Midtrans past expires_at"}')
              ->> 'decision', 'released', 'a local expiry without transaction_id releases');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'capacity released');
SELECT isnt((test_helpers.ord('T-1')).expired_locally_at, NULL, 'the window was closed locally');
SELECT is(test_helpers.ledger('T-1'), 'tx-va:10', 'the open transaction stays recorded, still pending');

SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-va') ->> 'decision', 'late_payment',
          'paying the still-open transaction is a late payment, not stale');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'tickets issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity re-acquired');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-va') ->> 'decision', 'noop',
          'its retry is a no-op');
SELECT is(test_helpers.ledger('T-1'), 'tx-va:22', 'the transaction advanced to settlement');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
