-- An expire delivered ten times releases the reservation once; the repeats
-- are logged as no-ops.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 3);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 4);
SELECT test_helpers.product_order('P-1', 'V1', 2);
SELECT test_helpers.product_order('P-KEEP', 'V1', 5);

SELECT test_helpers.gateway('T-1', 'expire') FROM generate_series(1, 10);
SELECT test_helpers.gateway('P-1', 'expire') FROM generate_series(1, 10);

SELECT is(test_helpers.slot_counts('S1'), '4/0', 'capacity released exactly once');
SELECT is(test_helpers.variant_counts('V1'), '5/0', 'stock released exactly once');
SELECT is(test_helpers.decisions('T-1'),
          array_cat(ARRAY['released'], array_fill('noop'::text, ARRAY[9])), 'one release, nine no-ops');
SELECT is(test_helpers.decisions('P-1'),
          array_cat(ARRAY['released'], array_fill('noop'::text, ARRAY[9])), 'the same for the product');
SELECT is(ARRAY[test_helpers.status('T-1'), test_helpers.status('P-1')], ARRAY['expired', 'expired'],
          'both expired');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
