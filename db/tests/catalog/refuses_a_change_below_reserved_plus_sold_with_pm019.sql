-- Rule: capacity / stock never goes below what orders hold (reserved + sold):
-- such a decrease raises PM019 and changes and logs nothing; down to exactly
-- reserved + sold is allowed, and the freed room is for sale at once.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 3);
SELECT test_helpers.gateway('T-PAID', 'settlement');       -- 3 sold
SELECT test_helpers.ticket_order('T-HELD', 'S1', 2);        -- 2 reserved
SELECT test_helpers.product_order('P-HELD', 'V1', 4);       -- 4 reserved
CREATE TEMP TABLE logged AS SELECT count(*) AS n FROM payments.catalog_changes;

SELECT is(test_helpers.slot_counts('S1'), '2/3', 'the slot holds 2 reserved and 3 sold');
SELECT throws_ok($$SELECT payments.change_capacity('S1', -6)$$, 'PM019', NULL,
                 'capacity 10 - 6 = 4 < 5 held: PM019');
SELECT throws_ok($$SELECT payments.change_stock('V1', -7)$$, 'PM019', NULL,
                 'stock 10 - 7 = 3 < 4 reserved: PM019');
SELECT is((SELECT count(*) FROM payments.catalog_changes), (SELECT n FROM logged), 'refusals log nothing');
SELECT is((payments.change_capacity('S1', -5)).capacity, 5, 'down to exactly reserved + sold is allowed');
SELECT throws_ok($$SELECT test_helpers.ticket_order('T-MORE', 'S1', 1)$$, 'PM003', NULL,
                 'and the slot is full: PM003');
SELECT is((payments.change_capacity('S1', 1)).capacity, 6, 'one seat more');
SELECT lives_ok($$SELECT test_helpers.ticket_order('T-MORE', 'S1', 1)$$, 'is for sale at once');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
