-- Rule: a sync run is ok only when each of its due orders was answered: two
-- answers for the same order do not make up for a due order never checked.
BEGIN;
SELECT plan(2);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 1);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
CREATE TEMP TABLE due AS SELECT * FROM payments.start_sync('0 seconds');
SELECT DISTINCT run_id AS run FROM due \gset

-- T-1 is answered twice, T-2 never
SELECT payments.apply_gateway_status('T-1', 'pending', NULL, 100000, 'tx-1', '201', 'sync', NULL, :run);
SELECT payments.apply_gateway_status('T-1', 'pending', NULL, 100000, 'tx-1', '201', 'sync', NULL, :run);
SELECT is((SELECT gateway_checked_at FROM payments.orders WHERE order_number = 'T-2'), NULL,
          'setup: T-2 was never checked');

SELECT is((payments.finish_run(:run)).ok, false, 'the run is not ok: T-2 was never checked');

SELECT * FROM finish();
ROLLBACK;
