-- Rule: a failed / expired / refunded order (the ledger closed it) that still
-- holds capacity or stock is a violation until reconciliation releases it:
-- sold goods or a pickup code as released_order_holds_nothing, a reservation
-- not handed back as side_effects_done (its repair column is set).
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'settlement');
SELECT test_helpers.closed_without_release('T-1', 'expire');
UPDATE payments.orders SET refunded_manually_at = now(), status = 'refunded' WHERE order_number = 'P-1';

SELECT results_eq($$SELECT DISTINCT subject FROM payments.check_invariants()
                    WHERE invariant IN ('released_order_holds_nothing', 'side_effects_done') ORDER BY subject$$,
                  $$VALUES ('order P-1'), ('order T-1')$$,
                  'failed / expired / refunded orders that still hold capacity or stock are reported');
SELECT results_eq($$SELECT subject FROM payments.check_invariants()
                    WHERE invariant = 'released_order_holds_nothing' ORDER BY subject$$,
                  $$VALUES ('order P-1')$$,
                  'the refunded order holding sold stock and a pickup code as released_order_holds_nothing');
SELECT results_eq($$SELECT subject, detail ->> 'repair' FROM payments.check_invariants()
                    WHERE invariant = 'side_effects_done' ORDER BY subject$$,
                  $$VALUES ('order P-1', 'release_stock'), ('order T-1', 'release_capacity')$$,
                  'both with the release they still need');

SELECT test_helpers.reconcile_all();
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '0/0 0/0',
          'reconciliation releases them');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
