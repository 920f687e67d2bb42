-- Rule: payments.log_rejection stores no payload or detail larger than the
-- max_payload_bytes setting (PM015, nothing written); changing the setting
-- changes the bound.
BEGIN;
SELECT plan(7);

SELECT cmp_ok(pg_column_size(jsonb_build_object('body', repeat('x', 70000))), '>', 65536,
              'setup: a 70 kB body is over the default 64 kB');
SELECT throws_ok($$SELECT payments.log_rejection('malformed_json', 'T-1', '{}',
                                                 jsonb_build_object('body', repeat('x', 70000)))$$,
                 'PM015', NULL, 'an oversized payload raises PM015');
SELECT throws_ok($$SELECT payments.log_rejection('malformed_json', 'T-1',
                                                 jsonb_build_object('body_prefix', repeat('x', 70000)))$$,
                 'PM015', NULL, 'an oversized detail raises PM015');
SELECT is_empty('SELECT * FROM payments.webhook_logs', 'nothing was written');

UPDATE payments.settings SET value = '200000' WHERE name = 'max_payload_bytes';
SELECT lives_ok($$SELECT payments.log_rejection('malformed_json', 'T-1', '{}',
                                                jsonb_build_object('body', repeat('x', 70000)))$$,
                'with a larger max_payload_bytes it is stored');
UPDATE payments.settings SET value = '1024' WHERE name = 'max_payload_bytes';
SELECT throws_ok($$SELECT payments.log_rejection('malformed_json', 'T-1', '{}',
                                                 jsonb_build_object('body', repeat('x', 2000)))$$,
                 'PM015', NULL, 'with a smaller one a 2 kB payload is refused');
SELECT throws_ok($$UPDATE payments.settings SET value = '100' WHERE name = 'max_payload_bytes'$$,
                 '23514', NULL, 'a bound below 1024 bytes is refused by the settings table');

SELECT * FROM finish();
ROLLBACK;
