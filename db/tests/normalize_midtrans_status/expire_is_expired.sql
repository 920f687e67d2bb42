BEGIN;
SELECT plan(3);

SELECT is(payments.normalize_midtrans_status('expire', NULL),
          ROW('expired', NULL, true)::payments.normalized_status, 'expire is expired');
SELECT is(payments.normalize_midtrans_status('expire', 'accept'),
          ROW('expired', NULL, true)::payments.normalized_status, 'expire + accept is expired');
SELECT is(payments.normalize_midtrans_status('expire', 'challenge'),
          ROW('expired', NULL, true)::payments.normalized_status, 'expire + challenge is expired');

SELECT * FROM finish();
ROLLBACK;
