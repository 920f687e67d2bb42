-- Rule: alerts() counts every open review of every order (several per order,
-- broken down by reason) and the age of the oldest paid order whose goods are
-- not out (a repair due or short of capacity); both fire past their threshold
-- and stop firing once people resolve the reviews.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 2);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'expire', NULL, 'tx-1');
SELECT test_helpers.ticket_order('T-2', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-2'), test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-2');
UPDATE payments.orders SET paid_at = now() - interval '1 hour' WHERE order_number = 'T-1';
CREATE TEMP TABLE a AS SELECT * FROM payments.alerts();

SELECT is((SELECT observed FROM a WHERE name = 'open_reviews'), 2.000, 'two open reviews on one order count twice');
SELECT is((SELECT detail FROM a WHERE name = 'open_reviews'), '{"chargeback": 1, "paid_after_release": 1}'::jsonb,
          'broken down by reason');
SELECT is((SELECT firing FROM a WHERE name = 'open_reviews'), true, 'and fire');
SELECT is((SELECT observed FROM a WHERE name = 'oldest_unfulfilled_paid_seconds'), 3600.000,
          'a paid order short of capacity for an hour is an unfulfilled paid order');
SELECT is((SELECT firing FROM a WHERE name = 'oldest_unfulfilled_paid_seconds'), true, 'past 900 seconds it fires');

SELECT payments.resolve_review('T-1', 'chargeback', 'dismiss');
SELECT payments.resolve_review('T-1', 'paid_after_release', 'refunded_in_dashboard');
CREATE TEMP TABLE b AS SELECT * FROM payments.alerts();
SELECT is((SELECT observed || '/' || firing FROM b WHERE name = 'open_reviews'), '0.000/false',
          'resolved: no open review, no alert');
SELECT is((SELECT observed || '/' || firing FROM b WHERE name = 'oldest_unfulfilled_paid_seconds'), '0.000/false',
          'refunded: no unfulfilled paid order');

SELECT * FROM finish();
ROLLBACK;
