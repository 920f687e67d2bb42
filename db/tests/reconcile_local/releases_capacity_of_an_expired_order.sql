BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 3);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S1', 2);
SELECT test_helpers.gateway('T-REFUNDED', 'settlement');
SELECT test_helpers.force_status('T-EXPIRED', 'expired');     -- expired without release
SELECT test_helpers.force_status('T-REFUNDED', 'refunded');   -- refunded without return
SELECT is(test_helpers.slot_counts('S1'), '3/2', 'both still hold capacity');

CREATE TEMP TABLE result AS SELECT payments.reconcile_local() AS r;
SELECT is((SELECT (r ->> 'reconcile_release_capacity')::int FROM result), 2, 'two releases counted');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'reserved and sold capacity are returned');
SELECT is(test_helpers.active_tickets('T-REFUNDED'), 0::bigint, 'the refunded order''s tickets are voided');
SELECT is((SELECT array_agg(order_number ORDER BY id) FROM payments.webhook_logs
            WHERE event_type = 'reconcile_release_capacity' AND outcome = 'repaired'),
          ARRAY['T-EXPIRED', 'T-REFUNDED'], 'each logged as reconcile_release_capacity');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
