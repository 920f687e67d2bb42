BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');   -- duplicate_payment
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-1', 1); -- amount_mismatch, still pending

SELECT is(payments.resolve_review('T-1', 'refund') ->> 'status', 'refunded', 'the order is refunded');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'its tickets are voided');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'its capacity is returned');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'the flag is cleared');
SELECT is(payments.resolve_review('P-1', 'refund') ->> 'status', 'refunded', 'a pending product order too');
SELECT is(test_helpers.variant_counts('V1'), '0/0', 'its reserved stock is released');
SELECT is(test_helpers.outcomes('T-1', 'review_resolved') || test_helpers.outcomes('P-1', 'review_resolved'),
          ARRAY['refund', 'refund'], 'both logged as review_resolved / refund');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
