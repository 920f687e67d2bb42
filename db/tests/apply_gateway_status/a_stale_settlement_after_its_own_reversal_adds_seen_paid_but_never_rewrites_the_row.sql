-- A settlement delivered after the deny of the same transaction is stale: it
-- never rewrites the ledger row (stage, status, amount, Midtrans time stay
-- the deny's). It only adds the fact that the transaction was paid
-- (seen_paid), which opens payment_reversed. Nothing is issued. A stale
-- pending adds no such fact.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'deny', NULL, 'tx-1');
SELECT is((test_helpers.tx('T-1', 'tx-1')).seen_paid, false, 'a deny alone does not show a payment');
SELECT is(test_helpers.gateway('T-1', 'pending', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'a late pending is stale');
SELECT is((test_helpers.tx('T-1', 'tx-1')).seen_paid, false, 'and shows no payment');
CREATE TEMP TABLE before ON COMMIT DROP AS SELECT test_helpers.tx('T-1', 'tx-1') AS t;

CREATE TEMP TABLE r ON COMMIT DROP AS
    SELECT test_helpers.gateway_with('T-1', 'settlement', NULL, 'tx-1', '{"settlement_time": "2026-01-10 10:00:00"}',
                                     99000) AS r;
SELECT is((SELECT r ->> 'ledger' FROM r), 'stale', 'the late settlement is stale');
SELECT is((SELECT r ->> 'decision' FROM r), 'flagged', 'and flagged');
SELECT is((test_helpers.tx('T-1', 'tx-1')).seen_paid, true, 'it adds seen_paid');
SELECT is(ARRAY[(test_helpers.tx('T-1', 'tx-1')).stage::text, (test_helpers.tx('T-1', 'tx-1')).transaction_status,
                (test_helpers.tx('T-1', 'tx-1')).gross_amount::text,
                coalesce((test_helpers.tx('T-1', 'tx-1')).midtrans_at::text, 'NULL')],
          (SELECT ARRAY[(t).stage::text, (t).transaction_status, (t).gross_amount::text,
                        coalesce((t).midtrans_at::text, 'NULL')] FROM before),
          'stage, status, amount and Midtrans time are the deny''s');
SELECT is(test_helpers.open_reviews('T-1'), 'payment_reversed:tx-1',
          'payment_reversed is open (the amount the stale body claims is not taken)');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.all_tickets('T-1') || ' ' || test_helpers.slot_counts('S1'),
          'pending 0 2/0', 'nothing is issued: the order stays pending, seats held');
SELECT is(test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1') ->> 'decision', 'stale_ignored',
          'the settlement again only repeats a known fact');
SELECT is(test_helpers.decisions('T-1'), ARRAY['attempt_failed', 'stale_ignored', 'flagged', 'stale_ignored'],
          'every event is logged');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
