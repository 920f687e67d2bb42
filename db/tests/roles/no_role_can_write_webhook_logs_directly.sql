-- Rule: the audit trail is written only by the functions that decide and by
-- log_rejection: no role (runner, readonly, operator, bearer codes) may
-- insert, update, delete or truncate webhook_logs directly.
BEGIN;
SELECT plan(9);

SELECT payments.log_rejection('rejected', 'T-1');
CREATE TEMP TABLE roles AS
    SELECT unnest(ARRAY['payments_runner', 'payments_readonly', 'payments_operator', 'payments_bearer_codes']) AS r;

SELECT is_empty($$SELECT r FROM roles
                   WHERE has_any_column_privilege(r, 'payments.webhook_logs', 'INSERT')
                      OR has_any_column_privilege(r, 'payments.webhook_logs', 'UPDATE')
                      OR has_table_privilege(r, 'payments.webhook_logs', 'DELETE')
                      OR has_table_privilege(r, 'payments.webhook_logs', 'TRUNCATE')$$,
                'no role holds a write privilege on webhook_logs');

SET LOCAL ROLE payments_runner;
SELECT throws_ok($$INSERT INTO payments.webhook_logs (source, event_type, outcome) VALUES ('webhook', 'gateway_status', 'paid')$$,
                 '42501', NULL, 'the runner cannot INSERT');
RESET ROLE;
SET LOCAL ROLE payments_readonly;
SELECT throws_ok($$INSERT INTO payments.webhook_logs (source, event_type, outcome) VALUES ('webhook', 'gateway_status', 'paid')$$,
                 '42501', NULL, 'readonly cannot INSERT');
SELECT throws_ok($$UPDATE payments.webhook_logs SET outcome = 'paid'$$, '42501', NULL, 'readonly cannot UPDATE');
RESET ROLE;
SET LOCAL ROLE payments_operator;
SELECT throws_ok($$INSERT INTO payments.webhook_logs (source, event_type, outcome) VALUES ('manual', 'gateway_status', 'paid')$$,
                 '42501', NULL, 'the operator cannot INSERT');
SELECT throws_ok('DELETE FROM payments.webhook_logs', '42501', NULL, 'the operator cannot DELETE (prune_logs does)');
SELECT throws_ok('TRUNCATE payments.webhook_logs', '42501', NULL, 'the operator cannot TRUNCATE');
RESET ROLE;
SET LOCAL ROLE payments_bearer_codes;
SELECT throws_ok($$INSERT INTO payments.webhook_logs (source, event_type, outcome) VALUES ('webhook', 'gateway_status', 'paid')$$,
                 '42501', NULL, 'bearer codes cannot INSERT');
RESET ROLE;

SELECT is((SELECT count(*) FROM payments.webhook_logs), 1::bigint, 'the log holds the one rejection');

SELECT * FROM finish();
ROLLBACK;
