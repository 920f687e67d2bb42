-- Rule: refunded_in_dashboard records that the money went back in the
-- Midtrans dashboard (refunded_manually_at): the order becomes refunded whatever its ledger
-- covers, everything it holds is released (tickets voided, sold and reserved
-- capacity / stock returned), and the review is closed.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');   -- duplicate_payment
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1', 1); -- amount_mismatch, still pending
SELECT is(test_helpers.review('T-1') || ' ' || test_helpers.review('P-1'), 'duplicate_payment amount_mismatch',
          'setup: both under review');

SELECT is(payments.resolve_review('T-1', 'duplicate_payment', 'refunded_in_dashboard') ->> 'status', 'refunded',
          'the paid order is refunded');
SELECT isnt((test_helpers.ord('T-1')).refunded_manually_at, NULL, 'the refund is recorded on the order');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'its tickets are voided');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'the flag is cleared');
SELECT is(payments.resolve_review('P-1', 'amount_mismatch', 'refunded_in_dashboard') ->> 'status', 'refunded',
          'a pending product order too');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '0/0 0/0',
          'sold capacity and reserved stock are returned');
SELECT is(test_helpers.outcomes('T-1', 'review_resolved') || test_helpers.outcomes('P-1', 'review_resolved'),
          ARRAY['refunded_in_dashboard', 'refunded_in_dashboard'],
          'both logged as review_resolved / refunded_in_dashboard');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1') ->> 'new_status', 'refunded',
          'a later settlement of the same payment does not revive the order');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
