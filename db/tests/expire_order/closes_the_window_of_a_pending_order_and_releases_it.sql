-- Rule: expire_order closes a pending order's payment window locally
-- (expired_locally_at): with nothing at Midtrans that can still pay it, the
-- order is derived expired and released, logged as a gateway_status decision
-- with evidence local; closing twice changes nothing more.
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.ticket_order('T-DENIED', 'S1', 1);
SELECT test_helpers.gateway('T-DENIED', 'deny', NULL, 'tx-1');   -- a failed attempt: not live

CREATE TEMP TABLE result AS SELECT payments.expire_order('T-1') AS r;
SELECT is((SELECT r ->> 'decision' FROM result), 'released', 'the order is released');
SELECT is(test_helpers.status('T-1'), 'expired', 'expired');
SELECT isnt((test_helpers.ord('T-1')).expired_locally_at, NULL, 'the local close is recorded on the order');
SELECT is(test_helpers.slot_counts('S1'), '1/0', 'its capacity is back');
SELECT is((SELECT detail ->> 'evidence' FROM payments.webhook_logs WHERE order_number = 'T-1'), 'local',
          'logged with evidence local');
SELECT is(payments.expire_order('T-DENIED') ->> 'new_status', 'expired',
          'a pending order whose only attempt was denied is closed too');

SELECT test_helpers.backdate('T-1');
CREATE TEMP TABLE before AS SELECT (test_helpers.ord('T-1')).capacity_released_at AS released;
SELECT is(payments.expire_order('T-1') ->> 'decision', 'not_closed', 'closing it again: not_closed');
SELECT is((test_helpers.ord('T-1')).capacity_released_at, (SELECT released FROM before), 'nothing released twice');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
