BEGIN;
SELECT plan(9);

CREATE TEMP TABLE result AS
    SELECT payments.log_event('webhook', 'signature_invalid', 'rejected', 'T-404',
                              '{"reason": "bad signature"}', '{"order_id": "T-404"}', false,
                              'settlement', '200') AS id;
CREATE TEMP TABLE row AS SELECT * FROM payments.webhook_logs WHERE id = (SELECT id FROM result);

SELECT is((SELECT count(*) FROM row), 1::bigint, 'one row is appended, its id returned');
SELECT is((SELECT event_type || '/' || outcome FROM row), 'signature_invalid/rejected', 'event_type and outcome');
SELECT is((SELECT signature_valid FROM row), false, 'signature_valid false');
SELECT is((SELECT order_number || ' ' || transaction_status || ' ' || status_code FROM row),
          'T-404 settlement 200', 'order, status and status_code kept even for an unknown order');
SELECT is((SELECT detail ->> 'reason' FROM row), 'bad signature', 'detail kept');
SELECT throws_ok($$SELECT payments.log_event('smtp', 'x', 'y')$$, 'PM009', NULL, 'an unknown source raises PM009');
SELECT throws_ok($$SELECT payments.log_event('webhook', '', 'y')$$, 'PM009', NULL, 'an empty event_type raises PM009');
SELECT throws_ok($$SELECT payments.log_event('webhook', 'x', NULL)$$, 'PM009', NULL, 'a NULL outcome raises PM009');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
