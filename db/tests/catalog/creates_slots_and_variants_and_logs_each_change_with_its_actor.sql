-- Rule: create_ticket_slot / create_product_variant make a resource with
-- nothing reserved or sold; change_capacity / change_stock add a signed
-- delta; every call logs one catalog_changes row (kind, resource, delta,
-- before, after, note) with session_user as its actor, at the product's time.
BEGIN;
SELECT plan(12);

SELECT is((SELECT (s.code, s.capacity, s.reserved, s.sold, s.starts_at)::text
             FROM payments.create_ticket_slot('FRI', 100, '2030-05-01 20:00+00', 'first show') AS s),
          '(FRI,100,0,0,"2030-05-01 20:00:00+00")', 'a slot with its capacity and start, nothing held');
SELECT is((SELECT (v.sku, v.name, v.stock, v.reserved_stock, v.sold)::text
             FROM payments.create_product_variant('TEE-M', 20, 'Tour T-shirt, M') AS v),
          '(TEE-M,"Tour T-shirt, M",20,0,0)', 'a variant with its stock and name');
SELECT is((SELECT v.name FROM payments.create_product_variant('CAP', 5) AS v), NULL, 'the name is optional');

SELECT is((payments.change_capacity('FRI', 20, 'extra chairs')).capacity, 120, 'capacity up by 20');
SELECT is((payments.change_capacity('FRI', -50)).capacity, 70, 'and down by 50');
SELECT is((payments.change_stock('TEE-M', -5, 'five damaged')).stock, 15, 'stock down by 5');
SELECT is((payments.change_stock('TEE-M', 10)).stock, 25, 'and up by 10');

SELECT results_eq($$SELECT kind, resource, delta, before, after, note FROM payments.catalog_changes ORDER BY id$$,
                  $$VALUES ('slot_created', 'FRI', 100, 0, 100, 'first show'),
                           ('variant_created', 'TEE-M', 20, 0, 20, NULL),
                           ('variant_created', 'CAP', 5, 0, 5, NULL),
                           ('capacity_changed', 'FRI', 20, 100, 120, 'extra chairs'),
                           ('capacity_changed', 'FRI', -50, 120, 70, NULL),
                           ('stock_changed', 'TEE-M', -5, 20, 15, 'five damaged'),
                           ('stock_changed', 'TEE-M', 10, 15, 25, NULL)$$,
                  'each call logged once, with before and after');
SELECT ok((SELECT bool_and(c.actor = session_user) FROM payments.catalog_changes AS c),
          'the actor is the session user, not a name the caller passes');
SELECT ok((SELECT bool_and(c.resource_id = s.id) FROM payments.catalog_changes AS c
             JOIN payments.ticket_slots AS s ON s.code = c.resource WHERE c.kind LIKE '%capacity%' OR c.kind = 'slot_created'),
          'rows point at the slot by id too');

SELECT payments.advance_clock('2 hours');
SELECT payments.change_capacity('FRI', 1);
SELECT is((SELECT max(at) FROM payments.catalog_changes), now() + interval '2 hours',
          'changes are timed on the product''s clock');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
