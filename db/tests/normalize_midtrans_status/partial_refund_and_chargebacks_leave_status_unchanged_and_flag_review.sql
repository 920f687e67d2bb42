BEGIN;
SELECT plan(4);

SELECT is(payments.normalize_midtrans_status('partial_refund', NULL),
          ROW(NULL, 'partial_refund', true)::payments.normalized_status,
          'partial_refund: status unchanged, review partial_refund');
SELECT is(payments.normalize_midtrans_status('chargeback', NULL),
          ROW(NULL, 'chargeback', true)::payments.normalized_status,
          'chargeback: status unchanged, review chargeback');
SELECT is(payments.normalize_midtrans_status('partial_chargeback', NULL),
          ROW(NULL, 'partial_chargeback', true)::payments.normalized_status,
          'partial_chargeback: status unchanged, review partial_chargeback');
SELECT is(payments.normalize_midtrans_status('chargeback', 'accept'),
          ROW(NULL, 'chargeback', true)::payments.normalized_status,
          'the fraud_status does not matter for a chargeback');

SELECT * FROM finish();
ROLLBACK;
