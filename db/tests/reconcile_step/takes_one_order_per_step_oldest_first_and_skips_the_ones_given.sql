-- Rule: each reconcile_step repairs exactly one order, the oldest (lowest id)
-- whose repair column is set and that is not in `skip`; a batch of n steps
-- repairs at most n orders.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 100);
SELECT test_helpers.ticket_order('T-' || n, 'S1', 1) FROM generate_series(1, 5) AS n;
SELECT test_helpers.paid_without_goods('T-' || n) FROM generate_series(1, 5) AS n;
SELECT payments.start_run('reconcile', 'manual') AS run \gset

SELECT is(payments.reconcile_step(NULL, 'manual', :run) ->> 'order_number', 'T-1', 'step 1 takes T-1');
SELECT is(payments.reconcile_step('{}', 'manual', :run) ->> 'order_number', 'T-2', 'step 2 takes T-2');
SELECT is((SELECT count(*) FROM payments.orders WHERE tickets_issued_at IS NOT NULL), 2::bigint,
          'two steps, two orders repaired');
SELECT is(payments.reconcile_step(ARRAY[(test_helpers.ord('T-3')).id], 'manual', :run) ->> 'order_number', 'T-4',
          'an order in skip is passed over');
SELECT is(payments.reconcile_step(ARRAY[(test_helpers.ord('T-3')).id, (test_helpers.ord('T-5')).id], 'manual', :run),
          NULL, 'NULL when every order left is skipped');
SELECT is((SELECT checked FROM payments.runs WHERE id = :run), 3, 'the run counted 3 steps');
SELECT is(ARRAY[(test_helpers.ord('T-3')).repair, (test_helpers.ord('T-5')).repair],
          ARRAY['fix_ticket_issued', 'fix_ticket_issued'], 'the skipped orders still wait');

SELECT * FROM finish();
ROLLBACK;
