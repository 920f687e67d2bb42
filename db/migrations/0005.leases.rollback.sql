-- Rollback of 0005: the leases and their functions go; a runner of the
-- previous release takes its advisory locks again.
DROP FUNCTION IF EXISTS payments.acquire_lease(text, text, interval);
DROP FUNCTION IF EXISTS payments.renew_lease(text, text, interval);
DROP FUNCTION IF EXISTS payments.release_lease(text, text);
DROP TABLE payments.leases;
