-- Rule: payments_private.apply_ticket_payment fulfils only a paid order:
-- pending, failed, expired or refunded orders raise PM011 and get no tickets.
BEGIN;
SELECT plan(8);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-PENDING', 'S1', 1);
SELECT test_helpers.ticket_order('T-FAILED', 'S1', 1);
SELECT test_helpers.ticket_order('T-EXPIRED', 'S1', 1);
SELECT test_helpers.ticket_order('T-REFUNDED', 'S1', 1);
SELECT test_helpers.gateway('T-FAILED', 'cancel');
SELECT test_helpers.gateway('T-EXPIRED', 'expire');
SELECT test_helpers.gateway('T-REFUNDED', 'refund');
SELECT is(ARRAY[test_helpers.status('T-FAILED'), test_helpers.status('T-EXPIRED'), test_helpers.status('T-REFUNDED')],
          ARRAY['failed', 'expired', 'refunded'], 'setup: the three orders are closed');

SELECT throws_ok($$SELECT payments_private.apply_ticket_payment(test_helpers.ord('T-PENDING'))$$, 'PM011', NULL,
                 'a pending order cannot be fulfilled');
SELECT throws_ok($$SELECT payments_private.apply_ticket_payment(test_helpers.ord('T-FAILED'))$$, 'PM011', NULL,
                 'a failed order cannot be fulfilled');
SELECT throws_ok($$SELECT payments_private.apply_ticket_payment(test_helpers.ord('T-EXPIRED'))$$, 'PM011', NULL,
                 'an expired order cannot be fulfilled');
SELECT throws_ok($$SELECT payments_private.apply_ticket_payment(test_helpers.ord('T-REFUNDED'))$$, 'PM011', NULL,
                 'a refunded order cannot be fulfilled');
SELECT is((SELECT count(*) FROM payments.tickets), 0::bigint, 'no tickets were issued');
SELECT is(test_helpers.slot_counts('S1'), '1/0', 'only the pending order holds capacity');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
