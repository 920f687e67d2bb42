-- Rule: accept of an amount_mismatch review on an order the money does not
-- cover takes the money received as enough: accepted_amount = the standing
-- payments, the order becomes paid and is fulfilled, the review is closed and
-- the decision logged as review_resolved / accept.
BEGIN;
SELECT plan(13);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.product_order('P-1', 'V1', 1, 75000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', 99000);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2', 70000);
SELECT is(ARRAY[test_helpers.status('T-1'), test_helpers.review('T-1')], ARRAY['pending', 'amount_mismatch'],
          'setup: short by 1000, the order stays pending under review');

CREATE TEMP TABLE result AS SELECT payments.resolve_review('T-1', 'amount_mismatch', 'accept', 'venue agrees') AS r;
SELECT is((SELECT r ->> 'status' FROM result), 'paid', 'accepting the amount pays the order');
SELECT is((test_helpers.ord('T-1')).accepted_amount::numeric, 99000.00, 'accepted_amount is the money really received');
SELECT is((test_helpers.ord('T-1')).gross_amount::numeric, 100000.00, 'the price is unchanged');
SELECT is((SELECT gross_amount::numeric FROM payments.gateway_transactions WHERE transaction_id = 'tx-1'), 99000.00,
          'the ledger keeps what was paid');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity is finalized');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'the flag is cleared');
SELECT is((SELECT resolution FROM payments.order_reviews WHERE reason = 'amount_mismatch'
            AND order_id = (test_helpers.ord('T-1')).id), 'accept', 'the review is resolved as accept');
SELECT is(payments.resolve_review('P-1', 'amount_mismatch', 'accept') ->> 'status', 'paid', 'the product order too');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'with its pickup code');
SELECT is(test_helpers.outcomes('T-1', 'review_resolved'), ARRAY['accept'], 'logged as review_resolved / accept');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
