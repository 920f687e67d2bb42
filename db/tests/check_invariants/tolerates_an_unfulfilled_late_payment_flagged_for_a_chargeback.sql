-- Rule: a late payment that found no capacity / stock, then charged back by the
-- customer (who got nothing), stays paid and unfulfilled under review
-- (paid_after_release and chargeback both open); that is not a violation, and
-- dismissing the chargeback leaves paid_after_release open, so it is still
-- left to people until they refund or accept it.
BEGIN;
SELECT plan(12);
SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.variant('V1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1'), test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2'), test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2');
SELECT test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-2'), test_helpers.gateway('P-1', 'chargeback', NULL, 'tx-2');

SELECT is(ARRAY[test_helpers.review('T-1'), test_helpers.review('P-1')],
          ARRAY['chargeback,paid_after_release', 'chargeback,paid_after_release'],
          'both orders are under review for the shortfall and the chargeback');
SELECT is(ARRAY[test_helpers.status('T-1'), test_helpers.status('P-1')], ARRAY['paid', 'paid'], 'still paid');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets: nothing was oversold');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'no pickup code: nothing was oversold');
SELECT is_empty($$SELECT * FROM payments.find_mismatches() WHERE check_name <> 'counter_drift'$$,
                'left to people: nothing to repair');
SELECT is_empty('SELECT * FROM payments.check_invariants()',
                'an unfulfilled order under review is not a violation');

-- the chargeback is dismissed: the shortfall is still open
SELECT payments.resolve_review('T-1', 'chargeback', 'dismiss'), payments.resolve_review('P-1', 'chargeback', 'dismiss');
SELECT is(ARRAY[test_helpers.review('T-1'), test_helpers.review('P-1')],
          ARRAY['paid_after_release', 'paid_after_release'], 'paid_after_release stays open');
SELECT is(ARRAY[(test_helpers.ord('T-1')).needs_review, (test_helpers.ord('P-1')).needs_review], ARRAY[true, true],
          'so both still need review');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'still not a violation');

-- people refund them: released, nothing left open
SELECT payments.resolve_review('T-1', 'paid_after_release', 'refunded_in_dashboard'),
       payments.resolve_review('P-1', 'paid_after_release', 'refunded_in_dashboard');
SELECT is(ARRAY[test_helpers.status('T-1'), test_helpers.status('P-1')], ARRAY['refunded', 'refunded'],
          'refunded by people');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.variant_counts('V1'), '2/0 1/0',
          'only the other orders hold capacity / stock');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
