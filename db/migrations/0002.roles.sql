-- Roles: payments_runner may only EXECUTE the public SQL API (no table access);
-- payments_readonly may read tables and audit views. Roles are cluster-wide, so
-- they are created only when missing. Grants on functions are (re)applied by
-- db/grants.sql after every migrate (which also revokes PUBLIC's EXECUTE on every
-- function of the schema: PostgreSQL cannot withhold that default per schema).
-- depends: 0001.create-schema

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'payments_runner') THEN
        CREATE ROLE payments_runner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'payments_readonly') THEN
        CREATE ROLE payments_readonly NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON SCHEMA payments FROM PUBLIC;
GRANT USAGE ON SCHEMA payments TO payments_runner, payments_readonly;
REVOKE ALL ON ALL TABLES IN SCHEMA payments FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA payments TO payments_readonly;
