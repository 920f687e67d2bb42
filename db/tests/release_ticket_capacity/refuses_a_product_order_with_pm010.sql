BEGIN;
SELECT plan(4);

SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.product_order('P-2', 'V1', 2);
SELECT test_helpers.gateway('P-1', 'expire');

SELECT throws_ok($$SELECT payments.release_ticket_capacity('P-1')$$, 'PM010', NULL,
                 'an expired product order is not a ticket order: PM010');
SELECT is(test_helpers.variant_counts('V1'), '2/0', 'stock untouched (released once, by its own function)');
SELECT throws_ok($$SELECT payments.release_ticket_capacity('NOPE')$$, 'PM001', NULL,
                 'an unknown order raises PM001');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
