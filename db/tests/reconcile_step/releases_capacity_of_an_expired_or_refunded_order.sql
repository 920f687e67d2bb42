-- Rule: an expired or refunded ticket order still holding capacity (repair
-- release_capacity) gets its reserved and sold capacity back and its tickets
-- voided by a reconcile step, each logged as reconcile_release_capacity.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 3);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S1', 2);
SELECT test_helpers.gateway('T-REFUNDED', 'settlement');
SELECT test_helpers.closed_without_release('T-EXPIRED', 'expire');                 -- expired without release
UPDATE payments.orders SET refunded_manually_at = now(), status = 'refunded'   -- refunded without return
 WHERE order_number = 'T-REFUNDED';
SELECT is(test_helpers.slot_counts('S1'), '3/2', 'both still hold capacity');
SELECT is(ARRAY[(test_helpers.ord('T-EXPIRED')).repair, (test_helpers.ord('T-REFUNDED')).repair],
          ARRAY['release_capacity', 'release_capacity'], 'the repair column names the repair');

CREATE TEMP TABLE run AS SELECT * FROM test_helpers.reconcile_all();
SELECT is((SELECT totals ->> 'reconcile_release_capacity' FROM run), '2', 'two releases counted');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'reserved and sold capacity are returned');
SELECT is(test_helpers.active_tickets('T-REFUNDED'), 0::bigint, 'the refunded order''s tickets are voided');
SELECT is((SELECT array_agg(order_number ORDER BY id) FROM payments.webhook_logs
            WHERE event_type = 'reconcile_release_capacity' AND outcome = 'repaired'),
          ARRAY['T-EXPIRED', 'T-REFUNDED'], 'each logged as reconcile_release_capacity');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
