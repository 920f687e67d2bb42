-- Rule: reconcile_local skips an order that failed within one call, but the
-- runner calls it batch after batch in one run, and the next batch tries the
-- broken order again. Its failure is logged and counted once per run, so a
-- run's failed count is a number of orders, and the log is not flooded.
BEGIN;
SELECT plan(6);

SELECT test_helpers.slot('S-BROKEN', 10);
SELECT test_helpers.ticket_order('T-BROKEN', 'S-BROKEN', 2);
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', 'settlement', 22, gross_amount, true FROM payments.orders WHERE order_number = 'T-BROKEN';
UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = 'T-BROKEN';
-- the slot lost its reservation: finalizing would drive reserved negative
UPDATE payments.ticket_slots SET reserved = 0 WHERE code = 'S-BROKEN';

SELECT payments.start_run('reconcile', 'manual') AS run \gset
-- three batches of one run, each with a fresh skip list (as three CALLs would)
SELECT is(payments.reconcile_step(NULL, 'manual', :run) ->> 'outcome', 'error', 'batch 1: the repair fails');
SELECT is(payments.reconcile_step(NULL, 'manual', :run) ->> 'again', 'true', 'batch 2: it fails again');
SELECT payments.reconcile_step(NULL, 'manual', :run);
SELECT is((SELECT count(*) FROM payments.webhook_logs WHERE event_type = 'reconcile_error'), 1::bigint,
          'one reconcile_error row for the run');
SELECT is((SELECT failed || '/' || checked || '/' || (totals ->> 'mismatches_found') FROM payments.runs WHERE id = :run),
          '1/1/1', 'counted once: 1 failed, 1 checked, 1 found');

-- a new run logs and counts it again (it is still broken)
SELECT payments.finish_run(:run);
SELECT payments.start_run('reconcile', 'manual') AS run2 \gset
SELECT payments.reconcile_step(NULL, 'manual', :run2);
SELECT is((SELECT count(*) FROM payments.webhook_logs WHERE event_type = 'reconcile_error'), 2::bigint,
          'the next run logs it again');
SELECT is((SELECT failed FROM payments.runs WHERE id = :run2), 1, 'and counts it');

SELECT * FROM finish();
ROLLBACK;
