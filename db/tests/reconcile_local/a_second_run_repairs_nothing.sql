BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.force_status('T-1', 'paid');
SELECT test_helpers.force_status('P-1', 'expired');

SELECT is((payments.reconcile_local() ->> 'repaired')::int, 2, 'the first run repairs 2');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, test_helpers.slot_counts('S1') AS slot,
           test_helpers.variant_counts('V1') AS variant;
CREATE TEMP TABLE second AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'mismatches_found')::int FROM second), 0, 'the second run finds nothing');
SELECT is((SELECT (r ->> 'repaired')::int FROM second), 0, 'and repairs nothing');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'the tickets are unchanged');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'),
          (SELECT slot || ' ' || variant FROM before), 'the counters are unchanged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
