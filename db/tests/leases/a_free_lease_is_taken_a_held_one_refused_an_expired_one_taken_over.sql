-- Rule: acquire_lease takes a job's lease when nobody holds it, refuses it
-- (naming the holder and until when) while another holder's lease is
-- unexpired, renews it for its own holder, and lets anyone take it over once
-- it expired. Jobs are independent.
BEGIN;
SELECT plan(12);

SELECT is((SELECT acquired FROM payments.acquire_lease('sync', 'host-a:1:aaaa', '1 minute')), true,
          'a free lease is taken');
SELECT is((SELECT holder FROM payments.leases WHERE job = 'sync'), 'host-a:1:aaaa', 'the row names its holder');
SELECT ok((SELECT expires_at BETWEEN clock_timestamp() + interval '50 seconds'
                                 AND clock_timestamp() + interval '1 minute'
             FROM payments.leases WHERE job = 'sync'), 'it expires after the ttl');

SELECT results_eq($$SELECT acquired, held_by FROM payments.acquire_lease('sync', 'host-b:2:bbbb', '1 minute')$$,
                  $$VALUES (false, 'host-a:1:aaaa')$$,
                  'a held lease is refused, naming who holds it');
SELECT is((SELECT r.expires_at FROM payments.acquire_lease('sync', 'host-b:2:bbbb', '1 minute') AS r),
          (SELECT l.expires_at FROM payments.leases AS l WHERE l.job = 'sync'),
          'and until when');
SELECT is((SELECT acquired FROM payments.acquire_lease('reconcile', 'host-b:2:bbbb', '1 minute')), true,
          'another job''s lease is independent');

SELECT expires_at AS first_expiry FROM payments.leases WHERE job = 'sync' \gset
SELECT is((SELECT acquired FROM payments.acquire_lease('sync', 'host-a:1:aaaa', '2 minutes')), true,
          'its own holder acquires it again (a renewal)');
SELECT ok((SELECT expires_at > :'first_expiry'::timestamptz FROM payments.leases WHERE job = 'sync'),
          'with a later expiry');

-- the holder died: its lease runs out
UPDATE payments.leases
   SET acquired_at = now() - interval '3 minutes', renewed_at = now() - interval '2 minutes',
       expires_at = clock_timestamp() - interval '1 second'
 WHERE job = 'sync';
SELECT results_eq($$SELECT acquired, held_by FROM payments.acquire_lease('sync', 'host-b:2:bbbb', '1 minute')$$,
                  $$VALUES (true, 'host-b:2:bbbb')$$,
                  'an expired lease is taken over by another holder');
SELECT ok((SELECT acquired_at > now() - interval '1 minute' FROM payments.leases WHERE job = 'sync'),
          'acquired_at is the takeover''s, not the dead holder''s');
SELECT is((SELECT count(*) FROM payments.leases), 2::bigint, 'one row per job');

SELECT throws_ok($$SELECT * FROM payments.acquire_lease('sync', 'host-b:2:bbbb', '0 seconds')$$, 'PM009', NULL,
                 'a ttl under a second is refused');

SELECT * FROM finish();
ROLLBACK;
