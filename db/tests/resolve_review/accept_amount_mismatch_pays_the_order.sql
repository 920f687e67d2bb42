BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.product_order('P-1', 'V1', 1, 75000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', 99000);
SELECT test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2', 70000);

SELECT is(payments.resolve_review('T-1', 'accept') ->> 'status', 'paid', 'accepting the amount pays the order');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity is finalized');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'the flag is cleared');
SELECT is(payments.resolve_review('P-1', 'accept') ->> 'status', 'paid', 'the product order too');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, 'with its pickup code');
SELECT is(test_helpers.outcomes('T-1', 'review_resolved'), ARRAY['accept'], 'logged as review_resolved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
