-- Attempt tx-old is denied / expires, attempt tx-new pays: whatever the
-- order, the order ends paid by tx-new. A deny keeps the window open (the new
-- payment is an ordinary payment); an expire closes it first (the new payment
-- is a late payment, re-acquired from free capacity): the end is the same.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot(s, 10) FROM unnest(ARRAY['SA', 'SB', 'SC']) AS s;
SELECT test_helpers.ticket_order('T-A', 'SA', 2);
SELECT test_helpers.ticket_order('T-B', 'SB', 2);
SELECT test_helpers.ticket_order('T-C', 'SC', 2);

SELECT test_helpers.gateway('T-A', 'deny', NULL, 'tx-old'), test_helpers.gateway('T-A', 'settlement', NULL, 'tx-new');
SELECT test_helpers.gateway('T-B', 'settlement', NULL, 'tx-new'), test_helpers.gateway('T-B', 'deny', NULL, 'tx-old');
SELECT test_helpers.gateway('T-C', 'expire', NULL, 'tx-old'), test_helpers.gateway('T-C', 'settlement', NULL, 'tx-new'),
       test_helpers.gateway('T-C', 'expire', NULL, 'tx-old');

SELECT is(test_helpers.fingerprint('T-A'), test_helpers.fingerprint('T-B'), 'deny,pay = pay,deny');
SELECT is(test_helpers.fingerprint('T-A'), test_helpers.fingerprint('T-C'), '= expire,pay,expire');
SELECT is(test_helpers.fingerprint('T-A') ->> 'status', 'paid', 'all end paid');
SELECT is(ARRAY[test_helpers.active_tickets('T-A'), test_helpers.active_tickets('T-B'),
                test_helpers.active_tickets('T-C')], ARRAY[2, 2, 2]::bigint[], 'each with 2 tickets');
SELECT is(ARRAY[test_helpers.slot_counts('SA'), test_helpers.slot_counts('SB'), test_helpers.slot_counts('SC')],
          ARRAY['0/2', '0/2', '0/2'], 'each slot sold 2');
SELECT is(ARRAY[test_helpers.ledger('T-A'), test_helpers.ledger('T-B'), test_helpers.ledger('T-C')],
          ARRAY['tx-new:22,tx-old:30', 'tx-new:22,tx-old:30', 'tx-new:22,tx-old:32'],
          'the paying transaction is recorded everywhere, beside the failed attempt');
SELECT is(test_helpers.decisions('T-A') || test_helpers.decisions('T-C'),
          ARRAY['attempt_failed', 'paid', 'released', 'late_payment', 'noop'],
          'after a deny the new payment is an ordinary payment, after an expire a late one');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
