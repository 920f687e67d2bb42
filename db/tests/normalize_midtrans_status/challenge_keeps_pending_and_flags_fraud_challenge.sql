BEGIN;
SELECT plan(2);

SELECT is(payments.normalize_midtrans_status('capture', 'challenge'),
          ROW('pending', 'fraud_challenge', true)::payments.normalized_status,
          'capture + challenge stays pending and flags fraud_challenge');
SELECT is(payments.normalize_midtrans_status('settlement', 'challenge'),
          ROW('pending', 'fraud_challenge', true)::payments.normalized_status,
          'settlement + challenge stays pending and flags fraud_challenge');

SELECT * FROM finish();
ROLLBACK;
