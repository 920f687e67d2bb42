BEGIN;
SELECT plan(8);

SELECT is(payments.normalize_midtrans_status('pending', NULL),
          ROW('pending', NULL, true)::payments.normalized_status, 'pending is pending');
SELECT is(payments.normalize_midtrans_status('pending', 'accept'),
          ROW('pending', NULL, true)::payments.normalized_status, 'pending + accept is pending');
SELECT is(payments.normalize_midtrans_status('pending', 'challenge'),
          ROW('pending', NULL, true)::payments.normalized_status, 'pending + challenge is pending');
SELECT is(payments.normalize_midtrans_status('pending', 'deny'),
          ROW('pending', NULL, true)::payments.normalized_status, 'pending + deny is pending');
SELECT is(payments.normalize_midtrans_status('authorize', NULL),
          ROW('pending', NULL, true)::payments.normalized_status, 'authorize is pending');
SELECT is(payments.normalize_midtrans_status('authorize', 'accept'),
          ROW('pending', NULL, true)::payments.normalized_status, 'authorize + accept is pending');
SELECT is(payments.normalize_midtrans_status('authorize', 'challenge'),
          ROW('pending', NULL, true)::payments.normalized_status, 'authorize + challenge is pending');
SELECT is(payments.normalize_midtrans_status('authorize', 'deny'),
          ROW('pending', NULL, true)::payments.normalized_status, 'authorize + deny is pending');

SELECT * FROM finish();
ROLLBACK;
