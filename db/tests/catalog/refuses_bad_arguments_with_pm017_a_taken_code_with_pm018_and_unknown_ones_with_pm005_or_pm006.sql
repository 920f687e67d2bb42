-- Rule: a bad argument raises PM017 (code / sku empty, blank-padded or over
-- 100 characters; capacity / stock NULL or negative; delta NULL or zero; a
-- result beyond 2147483647; a name over 200 or note over 2000 characters),
-- a code / sku that exists PM018, a change of an unknown slot PM005 and of
-- an unknown variant PM006. Nothing is created, changed or logged.
BEGIN;
SELECT plan(19);

SELECT payments.create_ticket_slot('S1', 10);
SELECT payments.create_product_variant('V1', 10);

SELECT throws_ok($$SELECT payments.create_ticket_slot('', 10)$$, 'PM017', NULL, 'empty code: PM017');
SELECT throws_ok($$SELECT payments.create_ticket_slot(NULL, 10)$$, 'PM017', NULL, 'NULL code: PM017');
SELECT throws_ok($$SELECT payments.create_ticket_slot(' S2', 10)$$, 'PM017', NULL, 'padded code: PM017');
SELECT throws_ok(format($$SELECT payments.create_ticket_slot(%L, 10)$$, repeat('x', 101)), 'PM017', NULL,
                 'code over 100 characters: PM017');
SELECT throws_ok($$SELECT payments.create_ticket_slot('S2', -1)$$, 'PM017', NULL, 'negative capacity: PM017');
SELECT throws_ok($$SELECT payments.create_ticket_slot('S2', NULL)$$, 'PM017', NULL, 'NULL capacity: PM017');
SELECT throws_ok($$SELECT payments.create_product_variant('', 1)$$, 'PM017', NULL, 'empty sku: PM017');
SELECT throws_ok($$SELECT payments.create_product_variant('V2', -5)$$, 'PM017', NULL, 'negative stock: PM017');
SELECT throws_ok(format($$SELECT payments.create_product_variant('V2', 1, %L)$$, repeat('n', 201)), 'PM017', NULL,
                 'name over 200 characters: PM017');
SELECT throws_ok(format($$SELECT payments.create_ticket_slot('S2', 1, NULL, %L)$$, repeat('n', 2001)), 'PM017',
                 NULL, 'note over 2000 characters: PM017');
SELECT throws_ok($$SELECT payments.change_capacity('S1', 0)$$, 'PM017', NULL, 'zero delta: PM017');
SELECT throws_ok($$SELECT payments.change_stock('V1', NULL)$$, 'PM017', NULL, 'NULL delta: PM017');
SELECT throws_ok($$SELECT payments.change_capacity('S1', 2147483647)$$, 'PM017', NULL,
                 'a capacity beyond 2147483647: PM017');

SELECT throws_ok($$SELECT payments.create_ticket_slot('S1', 5)$$, 'PM018', NULL, 'the code exists: PM018');
SELECT throws_ok($$SELECT payments.create_product_variant('V1', 5)$$, 'PM018', NULL, 'the sku exists: PM018');
SELECT throws_ok($$SELECT payments.change_capacity('NOPE', 1)$$, 'PM005', NULL, 'unknown slot: PM005');
SELECT throws_ok($$SELECT payments.change_stock('NOPE', 1)$$, 'PM006', NULL, 'unknown variant: PM006');

SELECT is((SELECT string_agg(code || '=' || capacity, ',') FROM payments.ticket_slots)
          || ' ' || (SELECT string_agg(sku || '=' || stock, ',') FROM payments.product_variants),
          'S1=10 V1=10', 'nothing was created or changed');
SELECT is((SELECT count(*)::int FROM payments.catalog_changes), 2, 'only the two creations are logged');

SELECT * FROM finish();
ROLLBACK;
