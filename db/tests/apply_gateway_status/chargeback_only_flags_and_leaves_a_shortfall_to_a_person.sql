-- A chargeback of the paying transaction only flags (review chargeback beside
-- any other open review, no side-effect): it takes no goods back and gives
-- none out. An order paid late without capacity (paid_after_release) and
-- then charged back stays without tickets, nothing oversold, until a person
-- decides; a chargeback itself cannot be "accepted".
-- (A charged-back amount still stands as money (payments_private.cover), so
-- resolve_review(..., 'paid_after_release', 'accept') would fulfil it: that is
-- a person's explicit decision and not tested here.)
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');   -- late, no capacity left
SELECT is(test_helpers.open_reviews('T-1'), 'paid_after_release:', 'paid after its capacity was resold');

SELECT is(test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-2') ->> 'decision', 'flagged',
          'the customer''s chargeback is flagged');
SELECT is(test_helpers.open_reviews('T-1'), 'chargeback:tx-2,paid_after_release:',
          'the reviewer sees the chargeback beside paid_after_release (not instead of it)');
SELECT is(test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-2') -> 'effects', '[]'::jsonb,
          'a chargeback runs no side-effect');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'chargeback', 'accept')$$, 'PM012', NULL,
                 'a chargeback cannot be "accepted"');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'nothing oversold');
SELECT is((SELECT capacity FROM payments.ticket_slots WHERE code = 'S1'), 2, 'no capacity raised');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
