BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');

SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'accept')$$, 'PM012', NULL,
                 'accept on an order not under review raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'refund')$$, 'PM012', NULL,
                 'refund on an order not under review raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'dismiss')$$, 'PM012', NULL,
                 'dismiss on an order not under review raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('NOPE', 'dismiss')$$, 'PM001', NULL,
                 'an unknown order raises PM001');
SELECT is(test_helpers.status('T-1'), 'paid', 'the order is untouched');
SELECT is_empty($$SELECT * FROM payments.webhook_logs WHERE event_type = 'review_resolved'$$,
                'nothing is logged as resolved');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
