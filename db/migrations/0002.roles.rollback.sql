-- Rollback of 0002: take the grants back. The roles themselves are cluster-wide
-- and may be used by other databases, so they are dropped only when unused
-- (and only by a login allowed to drop roles: an owner without CREATEROLE keeps them).
REVOKE ALL ON ALL TABLES IN SCHEMA payments FROM payments_readonly;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA payments FROM payments_runner, payments_readonly;
REVOKE ALL ON SCHEMA payments FROM payments_runner, payments_readonly;
DO $$
BEGIN
    DROP ROLE IF EXISTS payments_runner;
EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
    RAISE NOTICE 'payments_runner still owns or holds privileges elsewhere, or this login may not drop roles; kept';
END
$$;
DO $$
BEGIN
    DROP ROLE IF EXISTS payments_readonly;
EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
    RAISE NOTICE 'payments_readonly still owns or holds privileges elsewhere, or this login may not drop roles; kept';
END
$$;
