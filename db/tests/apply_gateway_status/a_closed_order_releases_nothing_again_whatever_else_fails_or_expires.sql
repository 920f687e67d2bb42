-- Once the payment window is closed (a cancel: failed; an expire: expired)
-- the order has released what it held; later failures, cancels and expires
-- of any transaction release nothing again. The closed status follows from
-- the whole ledger: an expire anywhere makes a cancelled order expired
-- (refunded > expired > failed), whatever the delivery order.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-FAILED', 'S1', 2);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 3);
SELECT test_helpers.ticket_order('T-KEEP', 'S1', 4);
SELECT test_helpers.gateway('T-FAILED', 'cancel', NULL, 'tx-1');
SELECT test_helpers.gateway('T-EXPIRED', 'expire', NULL, 'tx-1');
SELECT is(test_helpers.slot_counts('S1'), '4/0', 'only the live order holds capacity');

SELECT is(test_helpers.gateway('T-FAILED', 'cancel', NULL, 'tx-2') ->> 'decision', 'noop',
          'another cancel on a failed order is a no-op');
SELECT is(test_helpers.gateway('T-FAILED', 'deny', NULL, 'tx-3') ->> 'decision', 'attempt_failed',
          'a denied attempt on a failed order is only a failed attempt');
SELECT is(test_helpers.gateway('T-EXPIRED', 'deny', NULL, 'tx-2') ->> 'decision', 'attempt_failed',
          'and so on an expired order');
SELECT is(test_helpers.gateway('T-EXPIRED', 'expire', NULL, 'tx-1') ->> 'decision', 'noop',
          'a repeated expire is a no-op');
SELECT is(test_helpers.status('T-FAILED') || ' ' || test_helpers.status('T-EXPIRED'), 'failed expired',
          'failed stays failed, expired stays expired');
CREATE TEMP TABLE r ON COMMIT DROP AS SELECT test_helpers.gateway('T-FAILED', 'expire', NULL, 'tx-4') AS r;
SELECT is((SELECT r ->> 'new_status' FROM r), 'expired',
          'an expire of another transaction makes the cancelled order expired');
SELECT is((SELECT r -> 'effects' FROM r), '[]'::jsonb, 'without releasing anything again');
SELECT is(test_helpers.slot_counts('S1'), '4/0', 'capacity released once: the live order keeps its 4');
SELECT is(test_helpers.decisions('T-EXPIRED'), ARRAY['released', 'attempt_failed', 'noop'],
          'each event is logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
