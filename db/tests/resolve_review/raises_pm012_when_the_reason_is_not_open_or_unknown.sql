-- Rule: resolve_review acts on an open review only: a reason that is not open
-- on the order (never opened, already resolved, or not a review reason at
-- all) raises PM012 and changes nothing; an unknown order raises PM001.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.gateway('T-2', 'settlement', NULL, 'tx-1'), test_helpers.gateway('T-2', 'chargeback', NULL, 'tx-1');
SELECT payments.resolve_review('T-2', 'chargeback', 'dismiss');
CREATE TEMP TABLE logs_before AS SELECT count(*) AS n FROM payments.webhook_logs;

SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'chargeback', 'accept')$$, 'PM012', NULL,
                 'accept on an order not under review raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'duplicate_payment', 'refund')$$, 'PM012', NULL,
                 'refund on an order not under review raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'amount_mismatch', 'dismiss')$$, 'PM012', NULL,
                 'dismiss on an order not under review raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('T-2', 'chargeback', 'dismiss')$$, 'PM012', NULL,
                 'a review already resolved cannot be resolved again');
SELECT throws_ok($$SELECT payments.resolve_review('T-2', 'bad_weather', 'dismiss')$$, 'PM012', NULL,
                 'an unknown reason raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('T-2', NULL, 'dismiss')$$, 'PM012', NULL,
                 'a NULL reason raises PM012');
SELECT throws_ok($$SELECT payments.resolve_review('NOPE', 'chargeback', 'dismiss')$$, 'PM001', NULL,
                 'an unknown order raises PM001');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.status('T-2'), 'paid paid', 'the orders are untouched');
SELECT is((SELECT count(*) FROM payments.webhook_logs), (SELECT n FROM logs_before), 'nothing more is logged');

SELECT * FROM finish();
ROLLBACK;
