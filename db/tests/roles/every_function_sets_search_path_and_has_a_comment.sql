-- Rule: every function of payments pins its search_path (the procedure
-- reconcile_local, which must COMMIT and so cannot, is the only exception and
-- runs with its caller's rights), every function has a COMMENT, and none is
-- executable by PUBLIC. The internal functions (payments_private) run only
-- inside the API's SECURITY DEFINER functions, under their pinned
-- search_path, and no role may call them: they pin none themselves (a SET
-- clause would cost a configuration swap on every call and stop the planner
-- from inlining the small pure ones).
BEGIN;
SELECT plan(7);

SELECT cmp_ok((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'payments'::regnamespace), '>=', 20,
              'the payments schema holds the API');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace = 'payments'::regnamespace
                     AND p.prokind <> 'p'
                     AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) AS c
                                      WHERE c LIKE 'search\_path=%')$$,
                'every function in payments pins its search_path');
SELECT is_empty($$SELECT p.oid::regprocedure, r.rolname FROM pg_proc AS p
                   CROSS JOIN (VALUES ('payments_runner'), ('payments_readonly'), ('payments_operator'),
                                      ('payments_bearer_codes')) AS r (rolname)
                   WHERE p.pronamespace = 'payments_private'::regnamespace
                     AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')$$,
                'no role may call an internal function');
SELECT results_eq($$SELECT p.oid::regprocedure::text, p.prosecdef FROM pg_proc AS p
                    WHERE p.pronamespace IN ('payments'::regnamespace, 'payments_private'::regnamespace)
                      AND p.prokind = 'p'$$,
                  $$VALUES ('payments.reconcile_local(integer,text,bigint,jsonb)', false)$$,
                  'the only procedure is reconcile_local, and it is not SECURITY DEFINER');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace IN ('payments'::regnamespace, 'payments_private'::regnamespace)
                     AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''$$,
                'every function in payments and payments_private has a COMMENT');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace IN ('payments'::regnamespace, 'payments_private'::regnamespace)
                     AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
                'no function in payments or payments_private is executable by PUBLIC');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace = 'payments_private'::regnamespace AND p.prosecdef$$,
                'no internal function is SECURITY DEFINER (they run inside the API functions)');

SELECT * FROM finish();
ROLLBACK;
