-- Rule: payments_private.release_ticket_capacity releases only a failed,
-- expired or refunded order: a pending or paid order raises PM011 and keeps
-- its capacity.
BEGIN;
SELECT plan(4);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-PENDING', 'S1', 1);
SELECT test_helpers.ticket_order('T-PAID', 'S1', 1);
SELECT test_helpers.gateway('T-PAID', 'settlement');

SELECT throws_ok($$SELECT payments_private.release_ticket_capacity(test_helpers.ord('T-PENDING'))$$, 'PM011', NULL,
                 'a pending order keeps its capacity');
SELECT throws_ok($$SELECT payments_private.release_ticket_capacity(test_helpers.ord('T-PAID'))$$, 'PM011', NULL,
                 'a paid order keeps its capacity');
SELECT is(test_helpers.slot_counts('S1'), '1/1', 'nothing released');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
