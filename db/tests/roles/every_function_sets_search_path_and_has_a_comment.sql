BEGIN;
SELECT plan(4);

SELECT cmp_ok((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'payments'::regnamespace), '>=', 20,
              'the payments schema holds the API');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace = 'payments'::regnamespace
                     AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) AS c
                                      WHERE c LIKE 'search\_path=%')$$,
                'every function in payments pins its search_path');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace = 'payments'::regnamespace
                     AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''$$,
                'every function in payments has a COMMENT');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace = 'payments'::regnamespace
                     AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
                'no function in payments is executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
