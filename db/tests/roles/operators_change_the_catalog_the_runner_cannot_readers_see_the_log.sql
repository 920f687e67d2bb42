-- Rule: payments_operator may create slots / variants and change capacity /
-- stock (logged with session_user, the login, as actor); the runner, readers and bearer
-- codes may not (42501); readers may read catalog_changes but not write it.
BEGIN;
SELECT plan(9);

SELECT is_empty($$SELECT p.oid::regprocedure, r.rolname
                    FROM pg_proc AS p
                   CROSS JOIN (VALUES ('payments_runner'), ('payments_readonly'), ('payments_bearer_codes')) AS r (rolname)
                   WHERE p.oid IN ('payments.create_ticket_slot(text,integer,timestamptz,text)'::regprocedure,
                                   'payments.create_product_variant(text,integer,text,text)'::regprocedure,
                                   'payments.change_capacity(text,integer,text)'::regprocedure,
                                   'payments.change_stock(text,integer,text)'::regprocedure)
                     AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')$$,
                'no runner, reader or bearer-code role may execute a catalog function');

SET LOCAL ROLE payments_operator;
SELECT lives_ok($$SELECT payments.create_ticket_slot('OP-S', 5)$$, 'an operator creates a slot');
SELECT lives_ok($$SELECT payments.create_product_variant('OP-V', 5)$$, 'and a variant');
SELECT lives_ok($$SELECT payments.change_capacity('OP-S', -2), payments.change_stock('OP-V', 3)$$,
                'and changes capacity and stock');
SELECT throws_ok($$INSERT INTO payments.ticket_slots (code, capacity) VALUES ('X', 1)$$, '42501', NULL,
                 'but cannot insert a slot directly');
RESET ROLE;

SET LOCAL ROLE payments_runner;
SELECT throws_ok($$SELECT payments.change_capacity('OP-S', 100)$$, '42501', NULL, 'the runner cannot: 42501');
RESET ROLE;

SET LOCAL ROLE payments_readonly;
SELECT is((SELECT count(*)::int FROM payments.catalog_changes WHERE actor = session_user), 4,
          'a reader sees the four changes');
SELECT throws_ok($$DELETE FROM payments.catalog_changes$$, '42501', NULL, 'but cannot erase them');
SELECT throws_ok($$SELECT payments.create_ticket_slot('RO', 1)$$, '42501', NULL, 'nor create a slot');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
