BEGIN;
SELECT plan(10);

-- a late payment that found no capacity / stock, then the customer (who got
-- nothing) files a chargeback: the order stays paid, unfulfilled, under review
SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.variant('V1', 1);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1'), test_helpers.gateway('P-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.product_order('P-2', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2'), test_helpers.gateway('P-1', 'settlement', NULL, 'tx-2');
SELECT test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-2'), test_helpers.gateway('P-1', 'chargeback', NULL, 'tx-2');

SELECT is(ARRAY[test_helpers.review('T-1'), test_helpers.review('P-1')], ARRAY['chargeback', 'chargeback'],
          'both orders are under review for the chargeback');
SELECT is(ARRAY[test_helpers.status('T-1'), test_helpers.status('P-1')], ARRAY['paid', 'paid'], 'still paid');
SELECT is(test_helpers.all_tickets('T-1'), 0::bigint, 'no tickets: nothing was oversold');
SELECT is((test_helpers.ord('P-1')).pickup_code, NULL, 'no pickup code: nothing was oversold');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'left to people: nothing to repair');
SELECT is_empty('SELECT * FROM payments.check_invariants()',
                'an unfulfilled order under review is not a violation (DESIGN 9: unless under review)');

-- the chargeback is dismissed: the orders are plain unfulfilled paid orders again
SELECT payments.resolve_review('T-1', 'dismiss'), payments.resolve_review('P-1', 'dismiss');
SELECT is((SELECT count(*) FROM payments.check_invariants()
            WHERE invariant IN ('paid_ticket_order_fulfilled', 'paid_product_order_fulfilled')), 2::bigint,
          'once no longer under review, both are violations again');
SELECT is((payments.reconcile_local() ->> 'flagged')::int, 2,
          'reconciliation cannot fulfil them and flags them again');
SELECT is(ARRAY[test_helpers.review('T-1'), test_helpers.review('P-1')],
          ARRAY['paid_after_release', 'paid_after_release'], 'as paid_after_release');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
