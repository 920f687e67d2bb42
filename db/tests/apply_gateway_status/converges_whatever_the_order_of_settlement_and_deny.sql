-- Settlement and deny of the same transaction (a Permata / Indomaret
-- reversal), delivered in both orders, with duplicates: every delivery order
-- ends the same. The payment was reversed while the window is open, so the
-- order is pending again with its seats held (no tickets, nothing sold) and
-- payment_reversed open; closing the window releases them all alike.
BEGIN;
SELECT plan(11);

SELECT test_helpers.slot(s, 10) FROM unnest(ARRAY['SA', 'SB', 'SC']) AS s;
SELECT test_helpers.ticket_order('T-A', 'SA', 2);
SELECT test_helpers.ticket_order('T-B', 'SB', 2);
SELECT test_helpers.ticket_order('T-C', 'SC', 2);

SELECT test_helpers.gateway('T-A', 'settlement'), test_helpers.gateway('T-A', 'deny');
SELECT test_helpers.gateway('T-B', 'deny'), test_helpers.gateway('T-B', 'settlement');
SELECT test_helpers.gateway('T-C', 'pending'), test_helpers.gateway('T-C', 'settlement'),
       test_helpers.gateway('T-C', 'deny'), test_helpers.gateway('T-C', 'settlement'),
       test_helpers.gateway('T-C', 'pending');

SELECT is(test_helpers.fingerprint('T-A'), test_helpers.fingerprint('T-B'),
          'settlement,deny = deny,settlement');
SELECT is(test_helpers.fingerprint('T-A'), test_helpers.fingerprint('T-C'),
          '= pending,settlement,deny,settlement,pending');
SELECT is(test_helpers.fingerprint('T-A') ->> 'status', 'pending', 'all end pending: the window is still open');
SELECT is(test_helpers.active_tickets('T-A') + test_helpers.active_tickets('T-B')
          + test_helpers.active_tickets('T-C'), 0::bigint, 'with no active tickets');
SELECT is(ARRAY[test_helpers.slot_counts('SA'), test_helpers.slot_counts('SB'), test_helpers.slot_counts('SC')],
          ARRAY['2/0', '2/0', '2/0'], 'and their seats held, none sold');
SELECT is(ARRAY[test_helpers.open_reviews('T-A'), test_helpers.open_reviews('T-B'), test_helpers.open_reviews('T-C')],
          ARRAY['payment_reversed:tx-1', 'payment_reversed:tx-1', 'payment_reversed:tx-1'],
          'the reversal is flagged for a human in every delivery order');
SELECT is(ARRAY[test_helpers.ledger('T-A'), test_helpers.ledger('T-B'), test_helpers.ledger('T-C')],
          ARRAY['tx-1:30', 'tx-1:30', 'tx-1:30'], 'every ledger ends with the deny');

SELECT payments.expire_order(o) FROM unnest(ARRAY['T-A', 'T-B', 'T-C']) AS o;
SELECT is(test_helpers.fingerprint('T-A'), test_helpers.fingerprint('T-B'), 'closed: still A = B');
SELECT is(test_helpers.fingerprint('T-A'), test_helpers.fingerprint('T-C'), 'and A = C');
SELECT is(ARRAY[test_helpers.status('T-A'), test_helpers.slot_counts('SA'), test_helpers.slot_counts('SB'),
                test_helpers.slot_counts('SC')],
          ARRAY['expired', '0/0', '0/0', '0/0'], 'all expired, all capacity returned');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
