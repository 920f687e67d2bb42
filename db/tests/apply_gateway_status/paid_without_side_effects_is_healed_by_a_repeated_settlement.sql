-- An order whose status says paid without its goods (foreign code) is healed
-- by the next settlement: the missing goods are issued, once.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 2);
-- foreign code marked both orders paid without running any side-effect
SELECT test_helpers.force_status('T-1', 'paid');
SELECT test_helpers.force_status('P-1', 'paid');

SELECT is(test_helpers.gateway('T-1', 'settlement') ->> 'decision', 'noop',
          'settlement on a paid ticket order is decided "noop"');
SELECT is(test_helpers.active_tickets('T-1'), 2::bigint, '... but the missing tickets are issued');
SELECT is(test_helpers.slot_counts('S1'), '0/2', '... and the capacity finalized');
SELECT isnt((test_helpers.ord('T-1')).tickets_issued_at, NULL, 'tickets_issued_at is set');
SELECT is(test_helpers.gateway('P-1', 'settlement') ->> 'decision', 'noop',
          'settlement on a paid product order is decided "noop"');
SELECT isnt((test_helpers.ord('P-1')).pickup_code, NULL, '... but the pickup code is issued');
SELECT is(test_helpers.variant_counts('V1'), '0/2', '... and the stock confirmed');
SELECT is(jsonb_array_length(test_helpers.gateway('P-1', 'settlement') -> 'effects'), 0,
          'once healed, a further settlement has no effect');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
