BEGIN;
SELECT plan(7);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-CANCEL', 'S1', 2);
SELECT test_helpers.ticket_order('T-FAILURE', 'S1', 2);
SELECT test_helpers.gateway('T-CANCEL', 'capture', 'accept', 'tx-c');
SELECT test_helpers.gateway('T-FAILURE', 'settlement', NULL, 'tx-f');

SELECT is(test_helpers.gateway('T-CANCEL', 'cancel', NULL, 'tx-c') ->> 'decision', 'reversed',
          'cancel of the paying transaction reverses');
SELECT is(test_helpers.gateway('T-FAILURE', 'failure', NULL, 'tx-f') ->> 'decision', 'reversed',
          'failure of the paying transaction reverses');
SELECT is(ARRAY[test_helpers.status('T-CANCEL'), test_helpers.status('T-FAILURE')],
          ARRAY['failed', 'failed'], 'both orders are failed');
SELECT is(test_helpers.active_tickets('T-CANCEL') + test_helpers.active_tickets('T-FAILURE'),
          0::bigint, 'all their tickets are voided');
SELECT is(test_helpers.slot_counts('S1'), '0/0', 'all capacity is returned');
SELECT is(ARRAY[test_helpers.review('T-CANCEL'), test_helpers.review('T-FAILURE')],
          ARRAY['payment_reversed', 'payment_reversed'], 'both are flagged payment_reversed');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
