-- Issue 10, "a denied attempt ends the order too early", the other half: after
-- a denied attempt the order is released only when its payment window closes:
-- an expire at Midtrans (expired), a cancel (failed), or a local close by
-- payments.expire_order (expired). Each releases the seats exactly once.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 20);
SELECT test_helpers.ticket_order(o, 'S1', 2) FROM unnest(ARRAY['T-EXPIRE', 'T-CANCEL', 'T-LOCAL']) AS o;
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 5);
SELECT test_helpers.gateway(o, 'deny', NULL, 'tx-1') FROM unnest(ARRAY['T-EXPIRE', 'T-CANCEL', 'T-LOCAL']) AS o;
SELECT is(test_helpers.slot_counts('S1'), '11/0', 'after the denied attempts every order still holds its seats');

SELECT is(test_helpers.gateway('T-EXPIRE', 'expire', NULL, 'tx-2') ->> 'decision', 'released',
          'an expire of the next attempt closes the window');
SELECT is(test_helpers.gateway('T-CANCEL', 'cancel', NULL, 'tx-2') ->> 'decision', 'released',
          'so does a cancel');
SELECT is(payments.expire_order('T-LOCAL') ->> 'decision', 'released', 'and a local close');
SELECT isnt((test_helpers.ord('T-LOCAL')).expired_locally_at, NULL, 'which is recorded on the order');
SELECT is(ARRAY[test_helpers.status('T-EXPIRE'), test_helpers.status('T-CANCEL'), test_helpers.status('T-LOCAL')],
          ARRAY['expired', 'failed', 'expired'], 'expired, failed, expired');
SELECT is(test_helpers.slot_counts('S1'), '5/0', 'their seats are free, the live order keeps its 5');

SELECT is(test_helpers.gateway('T-EXPIRE', 'expire', NULL, 'tx-2') -> 'effects', '[]'::jsonb,
          'a repeated expire releases nothing again');
SELECT is(payments.expire_order('T-LOCAL') ->> 'decision', 'not_closed', 'a repeated local close is refused');
SELECT is(test_helpers.slot_counts('S1'), '5/0', 'still 5/0');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
