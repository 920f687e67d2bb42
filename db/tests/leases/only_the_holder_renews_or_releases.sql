-- Rule: renew_lease and release_lease act only for the holder: another
-- holder's renewal or release changes nothing and says false; after a
-- takeover the old holder can neither renew nor release; bad arguments are
-- PM009.
BEGIN;
SELECT plan(11);

SELECT acquired FROM payments.acquire_lease('reconcile', 'host-a:1:aaaa', '30 seconds');
SELECT expires_at AS before FROM payments.leases WHERE job = 'reconcile' \gset

SELECT is(payments.renew_lease('reconcile', 'host-b:2:bbbb', '5 minutes'), false,
          'another holder cannot renew it');
SELECT is((SELECT expires_at FROM payments.leases WHERE job = 'reconcile'), :'before'::timestamptz,
          'its expiry is unchanged');
SELECT is(payments.renew_lease('reconcile', 'host-a:1:aaaa', '5 minutes'), true, 'the holder renews it');
SELECT ok((SELECT expires_at > :'before'::timestamptz FROM payments.leases WHERE job = 'reconcile'),
          'to now + ttl');

SELECT is(payments.release_lease('reconcile', 'host-b:2:bbbb'), false, 'another holder cannot release it');
SELECT is((SELECT holder FROM payments.leases WHERE job = 'reconcile'), 'host-a:1:aaaa', 'it is still held');

-- taken over after expiry: the old holder has lost it
UPDATE payments.leases
   SET acquired_at = now() - interval '10 minutes', renewed_at = now() - interval '9 minutes',
       expires_at = clock_timestamp() - interval '1 second'
 WHERE job = 'reconcile';
SELECT acquired FROM payments.acquire_lease('reconcile', 'host-b:2:bbbb', '30 seconds');
SELECT is(payments.renew_lease('reconcile', 'host-a:1:aaaa', '30 seconds'), false,
          'after a takeover the old holder cannot renew');
SELECT is(payments.release_lease('reconcile', 'host-a:1:aaaa'), false, 'nor release');

SELECT is(payments.release_lease('reconcile', 'host-b:2:bbbb'), true, 'the holder releases it');
SELECT is_empty($$SELECT * FROM payments.leases$$, 'nothing stays held');

SELECT throws_ok($$SELECT payments.renew_lease('migrate', 'host-b:2:bbbb', '30 seconds')$$, 'PM009', NULL,
                 'an unknown job is refused');

SELECT * FROM finish();
ROLLBACK;
