-- Rule: with outcome done the action's answer is applied as evidence action,
-- with already_done the Status API's as evidence status_api, both through
-- apply_gateway_status (source manual); one operator_action row records the
-- action, the outcome, session_user as actor and the decision. Only
-- payments_operator may call it: not the runner, not a reader.
BEGIN;
SELECT plan(10);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 1);
SELECT test_helpers.gateway('T-1', 'authorize', NULL, 'tx-1');
SELECT test_helpers.gateway('T-2', 'pending', NULL, 'tx-2');

SET LOCAL SESSION AUTHORIZATION payments_operator;
SELECT is(payments.record_operator_action('T-1', 'capture', 'done',
    '{"order_id": "T-1", "transaction_id": "tx-1", "transaction_status": "capture", "fraud_status": "accept",
      "gross_amount": "100000.00", "status_code": "200"}', 100000, 'guest arrived')
          - 'applied' - 'log_id',
          '{"order_number": "T-1", "action": "capture", "outcome": "done", "actor": "payments_operator",
            "transaction_id": "tx-1", "decision": "paid", "previous_status": "pending", "status": "paid",
            "needs_review": false}'::jsonb,
          'a capture''s answer pays the order it authorised');
SELECT is(payments.record_operator_action('T-1', 'capture', 'already_done',
    '{"order_id": "T-1", "transaction_id": "tx-1", "transaction_status": "capture", "fraud_status": "accept",
      "gross_amount": "100000.00", "status_code": "200"}') ->> 'decision', 'noop',
          'the same news again (a repeat) changes nothing');
SELECT is(payments.record_operator_action('T-2', 'cancel', 'done',
    '{"order_id": "T-2", "transaction_id": "tx-2", "transaction_status": "cancel", "status_code": "200"}')
          ->> 'decision', 'released', 'a cancel''s answer closes the window and releases the hold');
RESET SESSION AUTHORIZATION;

SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.active_tickets('T-1') || ' '
          || test_helpers.status('T-2'), 'paid 2 failed', 'goods followed the money');
SELECT is((SELECT array_agg(source || ':' || (detail ->> 'evidence') || ':' || outcome ORDER BY id)
             FROM payments.webhook_logs WHERE event_type = 'gateway_status' AND source = 'manual'),
          ARRAY['manual:action:paid', 'manual:status_api:noop', 'manual:action:released'],
          'each answer went through apply_gateway_status with its evidence');
SELECT is((SELECT array_agg((detail ->> 'action') || ':' || outcome || ':' || (detail ->> 'actor')
                            || ':' || (detail ->> 'decision') ORDER BY id)
             FROM payments.webhook_logs WHERE event_type = 'operator_action'),
          ARRAY['capture:done:payments_operator:paid', 'capture:already_done:payments_operator:noop',
                'cancel:done:payments_operator:released'], 'each action is logged with its actor');
SELECT is((SELECT detail ->> 'note' FROM payments.webhook_logs WHERE event_type = 'operator_action'
            ORDER BY id LIMIT 1), 'guest arrived', 'with the note');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SET LOCAL ROLE payments_runner;
SELECT throws_ok($$SELECT payments.record_operator_action('T-1', 'cancel', 'refused')$$, '42501', NULL,
                 'the runner may not record operator actions');
RESET ROLE;
SET LOCAL ROLE payments_readonly;
SELECT throws_ok($$SELECT payments.record_operator_action('T-1', 'cancel', 'refused')$$, '42501', NULL,
                 'nor may a reader');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
