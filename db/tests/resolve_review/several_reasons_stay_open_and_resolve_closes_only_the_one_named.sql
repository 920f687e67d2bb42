-- Rule: several reviews can be open on one order at once; resolve_review
-- closes exactly the reason named: the others stay open and needs_review stays
-- true until the last one is resolved.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1');
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2', 50000);   -- a second, wrong-amount payment
SELECT test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1');
SELECT is(test_helpers.review('T-1'), 'amount_mismatch,chargeback,duplicate_payment', 'three reasons are open');
SELECT is((SELECT count(*) FROM payments.open_reviews('T-1')), 3::bigint, 'open_reviews lists the three');

SELECT is(payments.resolve_review('T-1', 'duplicate_payment', 'dismiss') ->> 'needs_review', 'true',
          'dismissing one: the order still needs review');
SELECT is(test_helpers.review('T-1'), 'amount_mismatch,chargeback', 'only duplicate_payment was closed');
SELECT is((test_helpers.ord('T-1')).needs_review, true, 'needs_review stays true');

SELECT payments.resolve_review('T-1', 'chargeback', 'dismiss');
SELECT is(test_helpers.review('T-1'), 'amount_mismatch', 'then only chargeback');
SELECT payments.resolve_review('T-1', 'amount_mismatch', 'dismiss');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'needs_review is false once the last one is resolved');
SELECT is((SELECT array_agg(reason || ':' || resolution ORDER BY reason) FROM payments.order_reviews),
          ARRAY['amount_mismatch:dismiss', 'chargeback:dismiss', 'duplicate_payment:dismiss'],
          'each row records its own resolution');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
