BEGIN;
SELECT plan(6);

SELECT is(payments.normalize_midtrans_status('settlement', NULL),
          ROW('paid', NULL, true)::payments.normalized_status,
          'settlement without fraud_status is paid');
SELECT is(payments.normalize_midtrans_status('settlement', 'accept'),
          ROW('paid', NULL, true)::payments.normalized_status,
          'settlement + accept is paid');
SELECT is(payments.normalize_midtrans_status('capture', NULL),
          ROW('paid', NULL, true)::payments.normalized_status,
          'capture without fraud_status is paid');
SELECT is(payments.normalize_midtrans_status('capture', 'accept'),
          ROW('paid', NULL, true)::payments.normalized_status,
          'capture + accept is paid');
SELECT is(payments.normalize_midtrans_status('settlement'),
          ROW('paid', NULL, true)::payments.normalized_status,
          'fraud_status defaults to absent');
SELECT is(payments.normalize_midtrans_status('capture', ''),
          ROW('paid', NULL, true)::payments.normalized_status,
          'an empty fraud_status counts as absent');

SELECT * FROM finish();
ROLLBACK;
