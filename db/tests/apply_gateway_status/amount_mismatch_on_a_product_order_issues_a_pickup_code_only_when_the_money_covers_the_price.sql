-- A product order paid with an amount other than its price is flagged
-- amount_mismatch either way; the goods follow the money: less than the price
-- issues no pickup code (stock stays reserved), more than the price covers it
-- (pickup code issued, stock sold) and the surplus is for a person to review.
BEGIN;
SELECT plan(10);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-LESS', 'V1', 1, 75000);
SELECT test_helpers.product_order('P-MORE', 'V1', 1, 75000);

SELECT is(test_helpers.gateway('P-LESS', 'capture', 'accept', 'tx-1', 74999) ->> 'decision',
          'flagged', 'a capture for less than the price is flagged');
SELECT is(test_helpers.status('P-LESS'), 'pending', 'the order stays pending');
SELECT is((test_helpers.ord('P-LESS')).pickup_code, NULL, 'no pickup code');
SELECT is(test_helpers.open_reviews('P-LESS'), 'amount_mismatch:tx-1', 'amount_mismatch is open');

SELECT is(test_helpers.gateway('P-MORE', 'capture', 'accept', 'tx-2', 75001) ->> 'decision',
          'paid', 'a capture for more than the price pays');
SELECT isnt((test_helpers.ord('P-MORE')).pickup_code, NULL, 'a pickup code is issued');
SELECT is(test_helpers.open_reviews('P-MORE'), 'amount_mismatch:tx-2', 'and the surplus is flagged amount_mismatch');

SELECT is(test_helpers.variant_counts('V1'), '1/1', 'P-LESS still reserves its stock, P-MORE sold it');
SELECT is(test_helpers.decisions('P-LESS') || test_helpers.decisions('P-MORE'), ARRAY['flagged', 'paid'],
          'both decisions are logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
