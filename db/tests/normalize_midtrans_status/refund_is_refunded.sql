BEGIN;
SELECT plan(3);

SELECT is(payments.normalize_midtrans_status('refund', NULL),
          ROW('refunded', NULL, true)::payments.normalized_status, 'refund is refunded');
SELECT is(payments.normalize_midtrans_status('refund', 'accept'),
          ROW('refunded', NULL, true)::payments.normalized_status, 'refund + accept is refunded');
SELECT is(payments.normalize_midtrans_status('refund', 'deny'),
          ROW('refunded', NULL, true)::payments.normalized_status, 'refund + deny is refunded');

SELECT * FROM finish();
ROLLBACK;
