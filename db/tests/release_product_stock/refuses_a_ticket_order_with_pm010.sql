BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'deny');

SELECT throws_ok($$SELECT payments.release_product_stock('T-1')$$, 'PM010', NULL,
                 'a failed ticket order is not a product order: PM010');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'capacity untouched (released once, by its own function)');
SELECT throws_ok($$SELECT payments.release_product_stock('NOPE')$$, 'PM001', NULL,
                 'an unknown order raises PM001');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
