-- Rule: accept of paid_after_release raises the slot's capacity by exactly the
-- shortfall and fulfils the order (tickets issued, the other order keeps its
-- reservation); the decision is logged with the reason, the note and the
-- session user.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 3);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'T-1 paid after its capacity was resold');

CREATE TEMP TABLE result AS
    SELECT payments.resolve_review('T-1', 'paid_after_release', 'accept', 'extra seats added') AS r;
SELECT is((SELECT capacity FROM payments.ticket_slots WHERE code = 'S1'), 4,
          'capacity is raised by exactly the shortfall (1 free, 2 needed)');
SELECT is((SELECT r -> 'capacity_raised' FROM result), '[{"code": "S1", "capacity": 4}]'::jsonb,
          'the raise is reported');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, 'the tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '2/2', 'T-2 keeps its reservation, T-1 is sold');
SELECT is((test_helpers.ord('T-1')).shortfall_at, NULL, 'the shortfall is gone');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'the flag is cleared');
SELECT is(test_helpers.outcomes('T-1', 'review_resolved'), ARRAY['accept'], 'logged as review_resolved / accept');
SELECT is((SELECT detail ->> 'reason' FROM payments.webhook_logs WHERE event_type = 'review_resolved'),
          'paid_after_release', 'with the reason resolved');
SELECT is((SELECT (detail ->> 'actor') || ': ' || (detail ->> 'note') FROM payments.webhook_logs
            WHERE event_type = 'review_resolved'), session_user || ': extra seats added', 'who did it, and why');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
