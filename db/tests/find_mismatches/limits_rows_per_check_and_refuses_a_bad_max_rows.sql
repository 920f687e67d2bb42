BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 100);
SELECT test_helpers.ticket_order('T-' || n, 'S1', 1) FROM generate_series(1, 5) AS n;
SELECT test_helpers.force_status('T-' || n, 'paid') FROM generate_series(1, 3) AS n;
SELECT test_helpers.force_status('T-' || n, 'expired') FROM generate_series(4, 5) AS n;

SELECT is((SELECT count(*) FROM payments.find_mismatches()), 5::bigint, 'all 5 reported by default');
SELECT results_eq($$SELECT check_name, order_number FROM payments.find_mismatches(2)$$,
                  $$VALUES ('paid_ticket_unfulfilled', 'T-1'), ('paid_ticket_unfulfilled', 'T-2'),
                           ('ticket_capacity_unreleased', 'T-4'), ('ticket_capacity_unreleased', 'T-5')$$,
                  'max_rows applies per check, oldest orders first');
SELECT throws_ok($$SELECT * FROM payments.find_mismatches(0)$$, 'PM009', NULL, 'max_rows 0 raises PM009');
SELECT throws_ok($$SELECT * FROM payments.find_mismatches(NULL)$$, 'PM009', NULL, 'max_rows NULL raises PM009');
SELECT throws_ok($$SELECT * FROM payments.find_mismatches(100001)$$, 'PM009', NULL,
                 'max_rows above 100000 raises PM009');
SELECT lives_ok('SELECT payments.reconcile_local()', 'reconcile_local repairs what was found');
SELECT is_empty('SELECT * FROM payments.find_mismatches()', 'nothing is reported afterwards');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
