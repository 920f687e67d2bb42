BEGIN;
SELECT plan(8);

-- settlement and deny of the same transaction (a Permata / Indomaret reversal),
-- delivered in both orders, with duplicates
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
SELECT is(test_helpers.fingerprint('T-A') ->> 'status', 'failed', 'all end failed');
SELECT is(test_helpers.active_tickets('T-A') + test_helpers.active_tickets('T-B')
          + test_helpers.active_tickets('T-C'), 0::bigint, 'with no active tickets');
SELECT is(ARRAY[test_helpers.slot_counts('SA'), test_helpers.slot_counts('SB'), test_helpers.slot_counts('SC')],
          ARRAY['0/0', '0/0', '0/0'], 'and all capacity returned');
SELECT is(test_helpers.review('T-A'), 'payment_reversed',
          'where tickets had been issued, the reversal is flagged for a human');
SELECT is(test_helpers.review('T-C'), 'payment_reversed', 'in the long sequence too');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
