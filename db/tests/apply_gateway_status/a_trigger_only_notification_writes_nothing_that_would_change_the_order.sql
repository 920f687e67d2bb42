-- trigger_only: a notification that would pay, release, refund, reverse or
-- flag is only a trigger ('confirm', nothing written); one that changes
-- nothing is logged as usual and needs no Status API call.
BEGIN;
SELECT plan(12);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);

CREATE TEMP TABLE r ON COMMIT DROP AS
    SELECT payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'webhook',
                                         NULL, NULL, NULL, true) AS r;
SELECT is((SELECT r ->> 'decision' FROM r), 'confirm', 'a settlement of a pending order asks for confirmation');
SELECT is((SELECT r ->> 'would_decide' FROM r), 'paid', 'saying what it would decide');
SELECT is(test_helpers.status('T-1'), 'pending', 'the order is untouched');
SELECT is((SELECT count(*) FROM payments.webhook_logs), 0::bigint, 'nothing is logged yet');
SELECT is((SELECT count(*) FROM payments.gateway_transactions), 0::bigint, 'no transaction is recorded');

SELECT is(payments.apply_gateway_status('T-1', 'pending', NULL, 100000, 'tx-1', '201', 'webhook',
                                        NULL, NULL, NULL, true) ->> 'decision',
          'noop', 'a pending notification of a pending order is applied (changes nothing)');
SELECT is(payments.apply_gateway_status('T-1', 'expire', NULL, 100000, 'tx-1', '202', 'webhook',
                                        NULL, NULL, NULL, true) ->> 'decision',
          'confirm', 'an expire of a pending order asks for confirmation');

SELECT test_helpers.gateway('T-1', 'settlement');
SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-1', '200', 'webhook',
                                        NULL, NULL, NULL, true) ->> 'decision',
          'noop', 'a duplicate settlement is applied without a call');
SELECT is(payments.apply_gateway_status('T-1', 'pending', NULL, 100000, 'tx-1', '201', 'webhook',
                                        NULL, NULL, NULL, true) ->> 'decision',
          'stale_ignored', 'a late pending is stale without a call');
SELECT is(payments.apply_gateway_status('T-1', 'refund', NULL, 100000, 'tx-1', '200', 'webhook',
                                        NULL, NULL, NULL, true) ->> 'decision',
          'confirm', 'a refund of a paid order asks for confirmation');
SELECT is(payments.apply_gateway_status('T-1', 'settlement', NULL, 100000, 'tx-2', '200', 'webhook',
                                        NULL, NULL, NULL, true) ->> 'decision',
          'confirm', 'a second payment (a flag) asks for confirmation');
SELECT is(test_helpers.decisions('T-1'), ARRAY['noop', 'paid', 'noop', 'stale_ignored'],
          'only applied notifications are logged');

SELECT * FROM finish();
ROLLBACK;
