BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2, 100000);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1', 99000);

SELECT is((test_helpers.ord('T-1')).paid_amount, 99000.00,
          'an amount mismatch records the amount received');
SELECT is((test_helpers.ord('T-1')).status, 'pending', 'while the order stays pending');
SELECT lives_ok($$SELECT payments.resolve_review('T-1', 'accept', 'short by 1000, venue agrees')$$,
                'accepting it');
SELECT is((test_helpers.ord('T-1')).paid_amount, 99000.00, 'keeps what was really paid');

SELECT * FROM finish();
ROLLBACK;
