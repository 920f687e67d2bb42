BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 100);
SELECT test_helpers.ticket_order('T-' || n, 'S1', 1) FROM generate_series(1, 5) AS n;
SELECT test_helpers.force_status('T-' || n, 'paid') FROM generate_series(1, 5) AS n;

SELECT is((payments.reconcile_local(2) ->> 'repaired')::int, 2, 'batch 1 repairs 2');
SELECT is((SELECT count(*) FROM payments.orders WHERE tickets_issued_at IS NOT NULL), 2::bigint,
          'the two oldest orders');
SELECT is((payments.reconcile_local(2) ->> 'repaired')::int, 2, 'batch 2 repairs 2');
SELECT is((payments.reconcile_local(2) ->> 'repaired')::int, 1, 'batch 3 repairs the last one');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
