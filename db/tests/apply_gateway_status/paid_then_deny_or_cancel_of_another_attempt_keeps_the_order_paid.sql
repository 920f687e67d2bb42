-- Other attempts of a paid order failing or being cancelled are recorded in
-- their own ledger rows and change nothing: the paying transaction still
-- covers the price, whatever closes the window.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-new');
CREATE TEMP TABLE before AS SELECT test_helpers.ticket_codes('T-1') AS codes;

SELECT is(test_helpers.gateway('T-1', 'deny', NULL, 'tx-old') ->> 'decision', 'attempt_failed',
          'a deny of an older attempt is only a failed attempt');
SELECT is(test_helpers.gateway('T-1', 'cancel', NULL, 'tx-old') ->> 'decision', 'stale_ignored',
          'a cancel of that denied attempt is stale');
SELECT is(test_helpers.gateway('T-1', 'cancel', NULL, 'tx-other') ->> 'decision', 'noop',
          'a cancel of yet another attempt closes the window of a paid order: nothing changes');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order stays paid');
SELECT is(test_helpers.ticket_codes('T-1'), (SELECT codes FROM before), 'its tickets are untouched');
SELECT is(test_helpers.slot_counts('S1'), '0/2', 'its capacity stays sold');
SELECT is(test_helpers.ledger('T-1'), 'tx-new:22,tx-old:30,tx-other:31', 'every attempt has its own row');
SELECT is((test_helpers.ord('T-1')).needs_review, false, 'nothing to review');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
