BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');   -- late, no capacity left
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'paid after its capacity was resold');

SELECT is(test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-2') ->> 'decision', 'flagged',
          'the customer''s chargeback is flagged');
SELECT is(test_helpers.review('T-1'), 'chargeback',
          'the reviewer sees the chargeback (not replaced by paid_after_release)');
SELECT is(test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-2') -> 'effects', '[]'::jsonb,
          'a chargeback runs no side-effect');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'accept')$$, 'PM012', NULL,
                 'so nobody can "accept" (fulfil) a disputed order by mistake');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing oversold');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
