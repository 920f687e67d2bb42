-- Rule: a paid product order (the ledger covers it) missing its pickup code or
-- its stock confirmation is reported as fix_pickup_code; finding repairs nothing.
BEGIN;
SELECT plan(5);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-NOTHING', 'V1', 1);
SELECT test_helpers.product_order('P-NO-CONFIRM', 'V1', 1);
SELECT test_helpers.product_order('P-OK', 'V1', 1);
SELECT test_helpers.gateway('P-OK', 'settlement');
SELECT test_helpers.paid_without_goods('P-NOTHING');
SELECT test_helpers.paid_without_goods('P-NO-CONFIRM');
UPDATE payments.orders SET pickup_code = 'ZZZZ-ZZZZ' WHERE order_number = 'P-NO-CONFIRM';

SELECT results_eq($$SELECT check_name, order_number, detail ->> 'pickup_code' FROM payments.find_mismatches()$$,
                  $$VALUES ('fix_pickup_code', 'P-NOTHING', 'false'),
                           ('fix_pickup_code', 'P-NO-CONFIRM', 'true')$$,
                  'paid product orders missing a pickup code or stock confirmation are reported');
SELECT is(test_helpers.variant_counts('V1'), '2/1', 'finding confirms nothing');
SELECT lives_ok('SELECT test_helpers.reconcile_all()', 'reconciliation repairs what was found');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
