-- Rule: only what opened a tracking review closes it automatically (a decided
-- challenge, a partial refund gone full, a shortfall filled); every other
-- reason stays open until a person resolves it, whatever the ledger does next:
-- a duplicate_payment review stays open after one of the payments is
-- refunded, a payment_reversed review after the customer pays again.
BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-DUP', 'S1', 1);
SELECT test_helpers.ticket_order('T-REV', 'S1', 1);
SELECT test_helpers.ticket_order('T-CHAL', 'S1', 1);

SELECT test_helpers.gateway('T-DUP', 'settlement', NULL, 'tx-1'), test_helpers.gateway('T-DUP', 'settlement', NULL, 'tx-2');
SELECT is(test_helpers.review('T-DUP'), 'duplicate_payment', 'two payments: duplicate_payment');
SELECT test_helpers.gateway('T-DUP', 'refund', NULL, 'tx-2');
SELECT is(test_helpers.status('T-DUP'), 'paid', 'one payment refunded: still paid by the other');
SELECT is(test_helpers.review('T-DUP'), 'duplicate_payment', 'duplicate_payment stays open for a person');

SELECT test_helpers.gateway('T-REV', 'settlement', NULL, 'tx-1'), test_helpers.gateway('T-REV', 'deny', NULL, 'tx-1');
SELECT test_helpers.gateway('T-REV', 'settlement', NULL, 'tx-2');
SELECT is(test_helpers.status('T-REV'), 'paid', 'reversed, then paid again');
SELECT ok(test_helpers.review('T-REV') LIKE '%payment_reversed%', 'payment_reversed stays open');

-- a tracking reason, by contrast, closes itself when its condition ends
SELECT test_helpers.gateway('T-CHAL', 'capture', 'challenge', 'tx-1');
SELECT is(test_helpers.review('T-CHAL'), 'fraud_challenge', 'a challenge opens fraud_challenge');
SELECT test_helpers.gateway('T-CHAL', 'capture', 'accept', 'tx-1');
SELECT is((SELECT resolution || '/' || resolved_by FROM payments.order_reviews AS v
            JOIN payments.orders AS o ON o.id = v.order_id WHERE o.order_number = 'T-CHAL'),
          'auto/auto', 'accepted at Midtrans: fraud_challenge is closed automatically');

SELECT * FROM finish();
ROLLBACK;
