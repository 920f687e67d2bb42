BEGIN;
SELECT plan(6);

SELECT is(payments.normalize_midtrans_status('SETTLEMENT', NULL),
          ROW('paid', NULL, true)::payments.normalized_status, 'upper case status');
SELECT is(payments.normalize_midtrans_status('  Capture  ', ' ACCEPT '),
          ROW('paid', NULL, true)::payments.normalized_status, 'mixed case and padding');
SELECT is(payments.normalize_midtrans_status('Settlement', 'Challenge'),
          ROW('pending', 'fraud_challenge', true)::payments.normalized_status,
          'fraud_status is case-insensitive too');
SELECT is(payments.normalize_midtrans_status('   expire', NULL),
          ROW('expired', NULL, true)::payments.normalized_status, 'leading spaces are trimmed');
SELECT is(payments.normalize_midtrans_status(' CHARGEBACK ', NULL),
          ROW(NULL, 'chargeback', true)::payments.normalized_status,
          'review reason is the normalized status');
SELECT is(payments.normalize_midtrans_status('capture', '   '),
          ROW('paid', NULL, true)::payments.normalized_status, 'a blank fraud_status is absent');

SELECT * FROM finish();
ROLLBACK;
