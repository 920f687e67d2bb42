-- Rule: goods are out only where the standing payments of the ledger cover the
-- price, or a review is open (goods_covered_by_money): tickets or a pickup code
-- whose money is gone are reported, unless people are looking at the order.
BEGIN;
SELECT plan(5);
SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.variant('V1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.product_order('P-1', 'V1', 1);
SELECT test_helpers.gateway('T-1', 'settlement');
SELECT test_helpers.gateway('P-1', 'settlement');
-- the money vanished from the ledger (foreign code), the goods stayed out
DELETE FROM payments.gateway_transactions;

SELECT results_eq($$SELECT subject, detail FROM payments.check_invariants()
                    WHERE invariant = 'goods_covered_by_money' ORDER BY subject$$,
                  $$VALUES ('order P-1', '{"status": "paid", "standing": 0}'::jsonb),
                           ('order T-1', '{"status": "paid", "standing": 0}'::jsonb)$$,
                  'goods out with no money standing are reported for both kinds');

-- someone opens a review on T-1: people are looking, so its goods are tolerated
INSERT INTO payments.order_reviews (order_id, reason)
SELECT id, 'gateway_disagreement' FROM payments.orders WHERE order_number = 'T-1';
UPDATE payments.orders SET needs_review = true WHERE order_number = 'T-1';
SELECT results_eq($$SELECT subject FROM payments.check_invariants() WHERE invariant = 'goods_covered_by_money'$$,
                  $$VALUES ('order P-1')$$, 'an order under review is not reported');
SELECT ok(EXISTS (SELECT 1 FROM payments.check_invariants()
                   WHERE invariant = 'status_follows_ledger' AND subject = 'order T-1'),
          'its status is still not the one its ledger derives');

-- the money is back: nothing to report
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount, seen_paid)
SELECT id, 'tx-1', 'settlement', 22, gross_amount, true FROM payments.orders;
UPDATE payments.order_reviews SET resolved_at = now(), resolution = 'dismiss', resolved_by = session_user;
UPDATE payments.orders SET needs_review = false;
SELECT is_empty($$SELECT * FROM payments.check_invariants() WHERE invariant = 'goods_covered_by_money'$$,
                'goods covered by money are not reported');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
