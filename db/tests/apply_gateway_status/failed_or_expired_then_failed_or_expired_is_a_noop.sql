BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-FAILED', 'S1', 2);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 3);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 4);
SELECT test_helpers.gateway('T-FAILED', 'deny', NULL, 'tx-1');
SELECT test_helpers.gateway('T-EXPIRED', 'expire', NULL, 'tx-1');
SELECT is(test_helpers.slot_counts('S1'), '4/0', 'only the live order holds capacity');

SELECT is(test_helpers.gateway('T-FAILED', 'expire', NULL, 'tx-2') ->> 'decision', 'noop',
          'expire on a failed order is a no-op');
SELECT is(test_helpers.gateway('T-FAILED', 'cancel', NULL, 'tx-2') ->> 'decision', 'noop',
          'cancel on a failed order is a no-op');
SELECT is(test_helpers.gateway('T-EXPIRED', 'deny', NULL, 'tx-2') ->> 'decision', 'noop',
          'deny on an expired order is a no-op');
SELECT is(test_helpers.gateway('T-EXPIRED', 'expire', NULL, 'tx-1') ->> 'decision', 'noop',
          'a repeated expire is a no-op');
SELECT is(test_helpers.status('T-FAILED'), 'failed', 'failed stays failed');
SELECT is(test_helpers.status('T-EXPIRED'), 'expired', 'expired stays expired');
SELECT is(test_helpers.slot_counts('S1'), '4/0', 'capacity released once: the live order keeps its 4');
SELECT is(test_helpers.decisions('T-EXPIRED'), ARRAY['released', 'noop', 'noop'],
          'each event is logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
