-- Rule: a paid order short of capacity cannot be waved through: dismiss of
-- paid_after_release on a paid order raises PM012 (accept or refund it); the
-- review stays open and nothing changes.
BEGIN;
SELECT plan(5);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2');
SELECT is(test_helpers.status('T-1') || ' ' || test_helpers.review('T-1'), 'paid paid_after_release',
          'setup: paid and short');

SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'paid_after_release', 'dismiss')$$, 'PM012', NULL,
                 'dismiss of paid_after_release on a paid order raises PM012');
SELECT is(test_helpers.review('T-1'), 'paid_after_release', 'the review stays open');
SELECT is_empty($$SELECT * FROM payments.webhook_logs WHERE event_type = 'review_resolved'$$, 'nothing is logged');
SELECT is(payments.resolve_review('T-1', 'paid_after_release', 'refunded_in_dashboard') ->> 'status', 'refunded',
          'refund is allowed');

SELECT * FROM finish();
ROLLBACK;
