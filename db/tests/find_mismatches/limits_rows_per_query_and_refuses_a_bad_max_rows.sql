-- Rule: max_rows bounds each of find_mismatches' queries (the repair column,
-- orders waiting for Midtrans, counter drift) separately, oldest orders first;
-- a max_rows outside 1..100000 raises PM009.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 100);
SELECT test_helpers.ticket_order('T-' || n, 'S1', 1) FROM generate_series(1, 7) AS n;
SELECT test_helpers.paid_without_goods('T-' || n) FROM generate_series(1, 3) AS n;
SELECT test_helpers.closed_without_release('T-' || n, 'expire') FROM generate_series(4, 5) AS n;
UPDATE payments.orders SET expires_at = now() - interval '1 hour' - n * interval '1 minute'
  FROM generate_series(6, 7) AS n WHERE order_number = 'T-' || n;

SELECT is((SELECT count(*) FROM payments.find_mismatches()), 7::bigint, 'all 7 reported by default');
SELECT results_eq($$SELECT check_name, order_number FROM payments.find_mismatches(2)$$,
                  $$VALUES ('fix_ticket_issued', 'T-1'), ('fix_ticket_issued', 'T-2'),
                           ('needs_gateway_status', 'T-7'), ('needs_gateway_status', 'T-6')$$,
                  'max_rows applies to each query: 2 repairs (lowest id first), 2 waiting (oldest expiry first)');
SELECT results_eq($$SELECT check_name, order_number FROM payments.find_mismatches(4) WHERE check_name <> 'needs_gateway_status'$$,
                  $$VALUES ('fix_ticket_issued', 'T-1'), ('fix_ticket_issued', 'T-2'), ('fix_ticket_issued', 'T-3'),
                           ('release_capacity', 'T-4')$$,
                  'the repairs of every kind share one ordering by id');
SELECT throws_ok($$SELECT * FROM payments.find_mismatches(0)$$, 'PM009', NULL, 'max_rows 0 raises PM009');
SELECT throws_ok($$SELECT * FROM payments.find_mismatches(NULL)$$, 'PM009', NULL, 'max_rows NULL raises PM009');
SELECT throws_ok($$SELECT * FROM payments.find_mismatches(100001)$$, 'PM009', NULL,
                 'max_rows above 100000 raises PM009');
SELECT lives_ok('SELECT test_helpers.reconcile_all()', 'reconciliation repairs what was found');
SELECT results_eq($$SELECT check_name FROM payments.find_mismatches()$$,
                  $$VALUES ('needs_gateway_status'), ('needs_gateway_status')$$,
                  'only the orders waiting for Midtrans are left');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
