-- Rule: the scratch tables of payments_private (run_answers: the answers of
-- open runs) are reached only through the API functions: no role has any
-- privilege on them, nor USAGE on the schema, readers included (an open run's
-- counters so far are read through recent_runs).
BEGIN;
SELECT plan(4);

SELECT isnt_empty($$SELECT 1 FROM pg_class WHERE relnamespace = 'payments_private'::regnamespace
                                              AND relkind IN ('r', 'p')$$,
                  'payments_private holds a table (run_answers)');
SELECT is_empty($$SELECT c.relname, r.rolname FROM pg_class AS c
                   CROSS JOIN (VALUES ('payments_runner'), ('payments_readonly'), ('payments_operator'),
                                      ('payments_bearer_codes'), ('public')) AS r (rolname)
                   WHERE c.relnamespace = 'payments_private'::regnamespace AND c.relkind IN ('r', 'p', 'v')
                     AND (has_any_column_privilege(r.rolname, c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
                          OR has_table_privilege(r.rolname, c.oid, 'DELETE, TRUNCATE, TRIGGER'))$$,
                'no role has a privilege on an internal table');
SELECT is_empty($$SELECT r.rolname FROM (VALUES ('payments_runner'), ('payments_readonly'), ('payments_operator'),
                                               ('payments_bearer_codes'), ('public')) AS r (rolname)
                   WHERE has_schema_privilege(r.rolname, 'payments_private', 'USAGE')$$,
                'nor USAGE on the schema');

SET LOCAL ROLE payments_readonly;
SELECT throws_ok('SELECT * FROM payments_private.run_answers', '42501', NULL, 'a reader cannot read run_answers');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
