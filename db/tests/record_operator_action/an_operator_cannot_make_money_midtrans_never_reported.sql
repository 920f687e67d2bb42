-- Rule: record_operator_action applies an answer that pays (capture / accept,
-- settlement) only for a transaction the ledger already holds as authorised
-- (capture) or challenged (approve), from the webhook, sync or reconcile: a
-- person cannot conjure money (PM026); a capture above the authorised amount
-- is PM027; an answer the action cannot produce, or about another order, is
-- PM025; a bad action / outcome or a missing answer PM009; an unknown order
-- PM001. Nothing changes on a refusal.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.gateway('T-2', 'authorize', NULL, 'tx-2');

SET LOCAL SESSION AUTHORIZATION payments_operator;
SELECT throws_ok($$SELECT payments.record_operator_action('T-1', 'capture', 'done',
    '{"order_id": "T-1", "transaction_id": "tx-9", "transaction_status": "capture", "fraud_status": "accept",
      "gross_amount": "100000.00", "status_code": "200"}')$$, 'PM026', NULL,
    'a capture of a transaction the ledger never held as authorised: PM026');
SELECT throws_ok($$SELECT payments.record_operator_action('T-1', 'approve', 'already_done',
    '{"order_id": "T-1", "transaction_id": "tx-9", "transaction_status": "settlement",
      "gross_amount": "100000.00", "status_code": "200"}')$$, 'PM026', NULL,
    'nor as challenged, for an approval: PM026');
SELECT throws_ok($$SELECT payments.record_operator_action('T-2', 'capture', 'done',
    '{"order_id": "T-2", "transaction_id": "tx-2", "transaction_status": "capture", "fraud_status": "accept",
      "gross_amount": "200000.00", "status_code": "200"}')$$, 'PM027', NULL,
    'a capture above the authorised amount: PM027');
SELECT throws_ok($$SELECT payments.record_operator_action('T-2', 'cancel', 'done',
    '{"order_id": "T-2", "transaction_id": "tx-2", "transaction_status": "settlement",
      "gross_amount": "100000.00", "status_code": "200"}')$$, 'PM025', NULL,
    'a cancel answered with a settlement: PM025');
SELECT throws_ok($$SELECT payments.record_operator_action('T-2', 'capture', 'done',
    '{"order_id": "T-1", "transaction_id": "tx-2", "transaction_status": "capture", "fraud_status": "accept",
      "gross_amount": "100000.00", "status_code": "200"}')$$, 'PM025', NULL,
    'an answer about another order: PM025');
SELECT throws_ok($$SELECT payments.record_operator_action('T-2', 'refund', 'done', '{}')$$, 'PM009', NULL,
                 'an unknown action: PM009');
SELECT throws_ok($$SELECT payments.record_operator_action('T-2', 'capture', 'done')$$, 'PM009', NULL,
                 'done without Midtrans'' answer: PM009');
SELECT throws_ok($$SELECT payments.record_operator_action('T-404', 'cancel', 'refused')$$, 'PM001', NULL,
                 'an unknown order: PM001');
SELECT is(payments.record_operator_action('T-2', 'cancel', 'refused',
              '{"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"}')
          ->> 'status', 'pending', 'a refusal is recorded and changes nothing');
RESET SESSION AUTHORIZATION;

SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.status('T-2') || ' '
          || (SELECT count(*) FROM payments.gateway_transactions), 'pending pending 1',
          'no order and no ledger row changed');
SELECT is((SELECT array_agg(outcome || ':' || (detail ->> 'actor')) FROM payments.webhook_logs
            WHERE event_type = 'operator_action'), ARRAY['refused:payments_operator'],
          'only the refusal is logged, with its actor');

SELECT * FROM finish();
ROLLBACK;
