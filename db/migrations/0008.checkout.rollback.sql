-- Rollback of 0009: the checkouts and their functions go; the orders they
-- created stay (they are ordinary orders).
DROP FUNCTION IF EXISTS payments.begin_checkout(text, text, jsonb, interval, numeric, text, text, interval);
DROP FUNCTION IF EXISTS payments.finish_checkout(text, text, text, text);
DROP FUNCTION IF EXISTS payments.abandon_checkout(text, text, text);
DROP FUNCTION IF EXISTS payments_private.checkout_result(bigint, text, boolean);
DROP FUNCTION IF EXISTS payments_private.snap_expiry(timestamptz, timestamptz);
DROP TABLE payments.checkouts;
