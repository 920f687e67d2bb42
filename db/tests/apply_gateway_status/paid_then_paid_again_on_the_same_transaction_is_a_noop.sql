-- A capture then the settlement of the same transaction is one payment: the
-- second event advances the ledger row and changes nothing else.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT is(test_helpers.gateway('T-1', 'capture', 'accept') ->> 'decision', 'paid', 'capture pays');
SELECT test_helpers.backdate('T-1');
CREATE TEMP TABLE before AS
    SELECT test_helpers.ticket_codes('T-1') AS codes, (test_helpers.ord('T-1')).paid_at AS paid_at;

SELECT is(test_helpers.gateway('T-1', 'settlement') ->> 'decision', 'noop',
          'settlement after capture of the same transaction is a no-op');
SELECT is(test_helpers.gateway('T-1', 'settlement') -> 'effects', '[]'::jsonb,
          'a no-op has no side-effects');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'the same tickets, same codes');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'capacity finalized once');
SELECT is((test_helpers.ord('T-1')).paid_at, (SELECT paid_at FROM before), 'paid_at is not moved');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'nothing flagged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
