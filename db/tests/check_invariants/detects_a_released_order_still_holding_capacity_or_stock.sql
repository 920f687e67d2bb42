BEGIN;
SELECT plan(3);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.force_status('T-1', 'expired');
SELECT test_helpers.force_status('P-1', 'refunded');

SELECT results_eq($$SELECT subject FROM payments.check_invariants()
                    WHERE invariant = 'released_order_holds_nothing' ORDER BY subject$$,
                  $$VALUES ('order P-1'), ('order T-1')$$,
                  'failed / expired / refunded orders that still hold capacity or stock are reported');

SELECT payments.reconcile_local();
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '0/0 0/0',
          'reconciliation releases them');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
