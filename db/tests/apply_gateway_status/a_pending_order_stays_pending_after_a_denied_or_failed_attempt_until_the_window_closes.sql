-- A deny or a failure of an attempt does not close the payment window: the
-- order stays pending with its seats reserved (decision attempt_failed), so
-- the customer may pay again. What closes the window releases them: a cancel
-- (failed), an expire (expired), or a local close (expire_order: expired).
BEGIN;
SELECT plan(14);

SELECT test_helpers.slot('S1', 20);
SELECT test_helpers.ticket_order('T-DENY', 'S1', 2);
SELECT test_helpers.ticket_order('T-FAILURE', 'S1', 3);
SELECT test_helpers.ticket_order('T-CANCEL', 'S1', 4);
SELECT test_helpers.ticket_order('T-EXPIRE', 'S1', 5);
SELECT is(test_helpers.slot_counts('S1'), '14/0', 'four pending orders hold 14');

SELECT is(test_helpers.gateway('T-DENY', 'deny') ->> 'decision', 'attempt_failed', 'a deny is a failed attempt');
SELECT is(test_helpers.gateway('T-FAILURE', 'failure') ->> 'decision', 'attempt_failed',
          'so is a failure');
SELECT is(test_helpers.gateway('T-EXPIRE', 'deny', NULL, 'tx-0') ->> 'decision', 'attempt_failed',
          'and a deny of an earlier attempt');
SELECT is(ARRAY[test_helpers.status('T-DENY'), test_helpers.status('T-FAILURE'), test_helpers.status('T-EXPIRE')],
          ARRAY['pending', 'pending', 'pending'], 'those orders stay pending');
SELECT is(test_helpers.slot_counts('S1'), '14/0', 'and keep their seats');
SELECT is((SELECT count(*) FROM payments.orders WHERE needs_review), 0::bigint, 'a plain failed attempt needs no review');

SELECT is(test_helpers.gateway('T-CANCEL', 'cancel') ->> 'decision', 'released', 'a cancel closes the window');
SELECT is(test_helpers.gateway('T-EXPIRE', 'expire') ->> 'decision', 'released', 'so does an expire');
SELECT is(payments.expire_order('T-DENY') ->> 'decision', 'released', 'and a local close');
SELECT is(payments.expire_order('T-FAILURE') ->> 'decision', 'released', 'after a failure too');
SELECT is(ARRAY[test_helpers.status('T-DENY'), test_helpers.status('T-FAILURE'), test_helpers.status('T-CANCEL'),
                test_helpers.status('T-EXPIRE')],
          ARRAY['expired', 'expired', 'failed', 'expired'], 'closed: failed by the cancel, expired otherwise');
SELECT is(test_helpers.slot_counts('S1') || ' ' || (SELECT count(*) FROM payments.tickets), '0/0 0',
          'all reserved capacity is back, no tickets anywhere');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
