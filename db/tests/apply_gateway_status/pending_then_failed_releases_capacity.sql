BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-DENY', 'S1', 2);
SELECT test_helpers.ticket_order('T-CANCEL', 'S1', 3);
SELECT test_helpers.ticket_order('T-FAILURE', 'S1', 4);
SELECT is(test_helpers.slot_counts('S1'), '9/0', 'three pending orders hold 9');

SELECT is(test_helpers.gateway('T-DENY', 'deny') ->> 'decision', 'released', 'deny releases');
SELECT is(test_helpers.gateway('T-CANCEL', 'cancel') ->> 'decision', 'released', 'cancel releases');
SELECT is(test_helpers.gateway('T-FAILURE', 'failure') ->> 'decision', 'released', 'failure releases');
SELECT is(ARRAY[test_helpers.status('T-DENY'), test_helpers.status('T-CANCEL'),
                test_helpers.status('T-FAILURE')],
          ARRAY['failed', 'failed', 'failed'], 'all three orders are failed');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'all reserved capacity is back');
SELECT is((SELECT count(*) FROM payments.orders WHERE capacity_released_at IS NOT NULL),
          3::bigint, 'capacity_released_at is set on each');
SELECT is((SELECT count(*) FROM payments.tickets), 0::bigint, 'no tickets anywhere');
SELECT is((SELECT count(*) FROM payments.orders WHERE needs_review), 0::bigint,
          'a plain failure needs no review');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
