BEGIN;
SELECT plan(6);

SELECT is(payments.normalize_midtrans_status('deny', NULL),
          ROW('failed', NULL, true)::payments.normalized_status, 'deny is failed');
SELECT is(payments.normalize_midtrans_status('deny', 'accept'),
          ROW('failed', NULL, true)::payments.normalized_status, 'deny + accept is failed');
SELECT is(payments.normalize_midtrans_status('cancel', NULL),
          ROW('failed', NULL, true)::payments.normalized_status, 'cancel is failed');
SELECT is(payments.normalize_midtrans_status('cancel', 'challenge'),
          ROW('failed', NULL, true)::payments.normalized_status, 'cancel + challenge is failed');
SELECT is(payments.normalize_midtrans_status('failure', NULL),
          ROW('failed', NULL, true)::payments.normalized_status, 'failure is failed');
SELECT is(payments.normalize_midtrans_status('failure', 'deny'),
          ROW('failed', NULL, true)::payments.normalized_status, 'failure + deny is failed');

SELECT * FROM finish();
ROLLBACK;
