-- Rollback of 0001: drops everything in the payments schema.
DROP SCHEMA payments CASCADE;
