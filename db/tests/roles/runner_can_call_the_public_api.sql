BEGIN;
SELECT plan(13);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);

SET LOCAL ROLE payments_runner;
SELECT lives_ok($$SELECT payments.create_ticket_order('T-1', '[{"slot": "S1", "quantity": 2}]',
                                                      now() + interval '1 hour', 100000)$$,
                'runner can create a ticket order');
SELECT lives_ok($$SELECT payments.create_product_order('P-1', '[{"sku": "V1", "quantity": 1}]',
                                                       now() + interval '1 hour', 50000)$$,
                'runner can create a product order');
SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'webhook')
              ->> 'decision', 'paid', 'runner can apply a gateway status');
SELECT is(payments.apply_gateway_status('P-1', 'expire', NULL, 50000, 'tx-2', '407', 'sync')
              ->> 'decision', 'released', 'and release through it');
SELECT lives_ok($$SELECT payments.log_event('webhook', 'signature_invalid', 'rejected', 'T-1')$$,
                'runner can log a rejected event');
SELECT lives_ok($$SELECT payments.reconcile_local()$$, 'runner can reconcile');
SELECT lives_ok($$SELECT * FROM payments.find_mismatches()$$, 'runner can look for mismatches');
SELECT is_empty($$SELECT * FROM payments.check_invariants()$$, 'runner can check invariants');
SELECT lives_ok($$SELECT payments.finish_run(payments.start_run('sync'), '{"checked": 0}')$$,
                'runner can record a sync run');
SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-9', '200', 'webhook')
              ->> 'decision', 'duplicate_payment', 'a duplicate payment flags the order');
SELECT is(payments.resolve_review('T-1', 'dismiss') ->> 'action', 'dismiss', 'runner can resolve a review');
RESET ROLE;

SELECT is((SELECT detail ->> 'actor' FROM payments.webhook_logs WHERE event_type = 'review_resolved'),
          'payments_runner', 'the acting role is recorded, not the function owner');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
