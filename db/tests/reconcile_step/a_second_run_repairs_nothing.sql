-- Rule: reconciliation converges: once every order's repair column is empty, a
-- second run finds nothing, logs no repair and changes no ticket or counter.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.paid_without_goods('T-1');
SELECT test_helpers.closed_without_release('P-1', 'expire');

SELECT is((SELECT changed FROM test_helpers.reconcile_all()), 2, 'the first run repairs 2');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, test_helpers.slot_counts('S1') AS slot,
           test_helpers.variant_counts('V1') AS variant,
           (SELECT count(*) FROM payments.webhook_logs) AS logs;
CREATE TEMP TABLE second AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT checked FROM second), 0, 'the second run finds nothing');
SELECT is((SELECT changed FROM second), 0, 'and repairs nothing');
SELECT is((SELECT count(*) FROM payments.webhook_logs), (SELECT logs + 1 FROM before),
          'only its reconcile_run row is logged');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'the tickets are unchanged');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'),
          (SELECT slot || ' ' || variant FROM before), 'the counters are unchanged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
