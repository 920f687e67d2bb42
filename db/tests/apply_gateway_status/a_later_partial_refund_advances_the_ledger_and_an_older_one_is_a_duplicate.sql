-- Equal stages are ordered by Midtrans' own time: a second partial_refund
-- whose body has a later refunds[].created_at advances the ledger row (its
-- cumulative refund_amount grows); one whose newest refund is not later is a
-- duplicate and rewrites nothing, whatever refund_amount it claims.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway_with('T-1', 'settlement', NULL, 'tx-1', '{"settlement_time": "2026-01-10 10:00:00"}');

CREATE TEMP TABLE r1 ON COMMIT DROP AS SELECT test_helpers.gateway_with('T-1', 'partial_refund', NULL, 'tx-1',
    '{"refund_amount": "10000.00",
      "refunds": [{"refund_amount": "10000.00", "created_at": "2026-01-11 10:00:00"}]}') AS r;
SELECT is((SELECT r ->> 'ledger' FROM r1), 'advance', 'the first partial refund advances the settlement');
SELECT is((test_helpers.tx('T-1', 'tx-1')).refund_amount::numeric, 10000.00::numeric(14,2), 'refund_amount 10000');
SELECT is((test_helpers.tx('T-1', 'tx-1')).midtrans_at, '2026-01-11 10:00:00+07'::timestamptz,
          'midtrans_at is the refund''s created_at (Jakarta time)');

CREATE TEMP TABLE r2 ON COMMIT DROP AS SELECT test_helpers.gateway_with('T-1', 'partial_refund', NULL, 'tx-1',
    '{"refund_amount": "25000.00",
      "refunds": [{"refund_amount": "10000.00", "created_at": "2026-01-11 10:00:00"},
                  {"refund_amount": "15000.00", "created_at": "2026-01-12 09:30:00"}]}') AS r;
SELECT is((SELECT r ->> 'ledger' FROM r2), 'advance', 'a second partial refund with a later created_at advances');
SELECT is((test_helpers.tx('T-1', 'tx-1')).refund_amount::numeric, 25000.00::numeric(14,2), 'refund_amount grows to 25000');
SELECT is((test_helpers.tx('T-1', 'tx-1')).midtrans_at, '2026-01-12 09:30:00+07'::timestamptz,
          'midtrans_at is the newest refund''s');

CREATE TEMP TABLE r3 ON COMMIT DROP AS SELECT test_helpers.gateway_with('T-1', 'partial_refund', NULL, 'tx-1',
    '{"refund_amount": "10000.00",
      "refunds": [{"refund_amount": "10000.00", "created_at": "2026-01-11 10:00:00"}]}') AS r;
SELECT is((SELECT r ->> 'ledger' FROM r3), 'duplicate', 'the first one redelivered late is a duplicate');
SELECT is((test_helpers.tx('T-1', 'tx-1')).refund_amount::numeric, 25000.00::numeric(14,2),
          'refund_amount does not shrink back');
SELECT is((SELECT r ->> 'ledger' FROM (SELECT test_helpers.gateway('T-1', 'partial_refund', NULL, 'tx-1') AS r) x),
          'duplicate', 'so is a partial refund without a time');

SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1'), 'paid 2',
          'a partial refund does not take goods back by itself');
SELECT is(test_helpers.open_reviews('T-1'), 'partial_refund:tx-1', 'it is for a person to decide');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
