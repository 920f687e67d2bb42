-- Rule: deleting a row of payments.settings does not remove the bound it
-- sets: the default the migration installed applies again (max_hold 24 h,
-- max_payload_bytes 65536, retention 30 / 400 days).
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
DELETE FROM payments.settings;

SELECT throws_ok($$SELECT payments.create_ticket_order('T-LONG', '[{"slot": "S1", "quantity": 1}]',
                                                       now() + interval '25 hours', 150000)$$,
                 'PM014', NULL, 'without a max_hold row a 25 h hold still raises PM014');
SELECT lives_ok($$SELECT payments.create_ticket_order('T-OK', '[{"slot": "S1", "quantity": 1}]',
                                                      now() + interval '23 hours', 150000)$$,
                'a 23 h hold is fine');
SELECT throws_ok($$SELECT payments.apply_gateway_status('T-OK', 'pending', NULL, 150000, 'tx-1', '201', 'webhook',
                                                        jsonb_build_object('junk', repeat('x', 70000)))$$,
                 'PM015', NULL, 'without a max_payload_bytes row 70 kB still raises PM015');
SELECT payments.log_rejection('malformed_json', 'N-1');
UPDATE payments.webhook_logs SET created_at = now() - interval '31 days';
SELECT is((payments.prune_logs(100, 'manual') ->> 'deleted_noise')::integer, 1,
          'without retention rows, noise older than 30 days is still pruned');

SELECT * FROM finish();
ROLLBACK;
