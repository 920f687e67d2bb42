BEGIN;
SELECT plan(2);

SELECT is(payments.normalize_midtrans_status('capture', 'deny'),
          ROW('failed', NULL, true)::payments.normalized_status,
          'capture + fraud deny is failed');
SELECT is(payments.normalize_midtrans_status('settlement', 'deny'),
          ROW('failed', NULL, true)::payments.normalized_status,
          'settlement + fraud deny is failed');

SELECT * FROM finish();
ROLLBACK;
