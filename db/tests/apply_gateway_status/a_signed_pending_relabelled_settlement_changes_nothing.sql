-- Midtrans signs order_id + status_code + gross_amount only. A signed pending
-- body (status_code 201) with transaction_status rewritten to settlement must
-- not pay: no documented source sends settlement with 201.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

CREATE TEMP TABLE r ON COMMIT DROP AS
    SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '201', 'webhook',
                                         '{"status_code": "201", "signature_key": "abc"}') AS r;
SELECT is((SELECT r ->> 'decision' FROM r), 'status_inconsistent', 'the decision is status_inconsistent');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order stays pending');
SELECT is(test_helpers.active_tickets('T-1'), 0::bigint, 'no ticket is issued');
SELECT is(test_helpers.slot_counts('S1'), '2/0', 'the reservation is untouched');
SELECT is((SELECT count(*) FROM payments.gateway_transactions), 0::bigint, 'no transaction is recorded');
SELECT results_eq($$SELECT event_type, outcome, signature_valid, transaction_status, status_code
                      FROM payments.webhook_logs$$,
                  $$VALUES ('status_inconsistent'::text, 'rejected'::text, true, 'settlement'::text, '201'::text)$$,
                  'one row logs it with its own event type: signature valid, status inconsistent');
SELECT is((SELECT (r ->> 'log_id')::bigint FROM r), (SELECT id FROM payments.webhook_logs),
          'and the answer names that row');
SELECT is((SELECT payload FROM payments.webhook_logs), '{"status_code": "201"}'::jsonb,
          'the stored body has no signature');
SELECT is(payments.apply_gateway_status('T-1', 'capture', 'accept', 100000, 'tx-1', '201', 'sync') ->> 'decision',
          'status_inconsistent', 'a capture-accept with 201 does not pay either, from any source');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
