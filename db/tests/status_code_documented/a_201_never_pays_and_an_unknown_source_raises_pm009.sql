-- A settlement with status_code 201 (the pending code) is documented by no
-- source, so a relabelled pending body never pays; statuses are compared
-- trimmed and case-insensitively; an unknown source raises PM009.
BEGIN;
SELECT plan(6);

SELECT ok(NOT payments.status_code_documented(e, 'settlement', NULL, '201'), e || ': settlement with 201')
  FROM unnest(ARRAY['notification', 'status_api', 'action']) AS e;
SELECT ok(NOT payments.status_code_documented('notification', 'capture', 'accept', '201'),
          'a capture is accepted with 200 only; 201 is a challenge');
SELECT ok(payments.status_code_documented('notification', ' Settlement ', '', '200'),
          'status and fraud_status are compared trimmed and case-insensitively');
SELECT throws_ok($$SELECT payments.status_code_documented('rumour', 'settlement', NULL, '200')$$,
                 'PM009', NULL, 'an unknown source of a status raises PM009');

SELECT * FROM finish();
ROLLBACK;
