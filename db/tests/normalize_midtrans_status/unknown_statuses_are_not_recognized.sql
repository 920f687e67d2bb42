BEGIN;
SELECT plan(7);

SELECT is(payments.normalize_midtrans_status('settled', NULL),
          ROW(NULL, NULL, false)::payments.normalized_status, 'a made-up status is not recognized');
SELECT is(payments.normalize_midtrans_status('refunded', NULL),
          ROW(NULL, NULL, false)::payments.normalized_status,
          'our own status names are not Midtrans statuses');
SELECT is(payments.normalize_midtrans_status('', NULL),
          ROW(NULL, NULL, false)::payments.normalized_status, 'an empty status is not recognized');
SELECT is(payments.normalize_midtrans_status(NULL, NULL),
          ROW(NULL, NULL, false)::payments.normalized_status, 'a NULL status is not recognized');
SELECT is(payments.normalize_midtrans_status('settlement', 'maybe'),
          ROW(NULL, NULL, false)::payments.normalized_status,
          'settlement with an unknown fraud_status is not taken as paid');
SELECT is(payments.normalize_midtrans_status('capture', 'review'),
          ROW(NULL, NULL, false)::payments.normalized_status,
          'capture with an unknown fraud_status is not taken as paid');
SELECT is(payments.normalize_midtrans_status('settlement pending', NULL),
          ROW(NULL, NULL, false)::payments.normalized_status,
          'a status is matched whole, not by prefix');

SELECT * FROM finish();
ROLLBACK;
