-- Rule: a new order kind can never fall silently into another kind's branch:
-- every dispatcher of the goods effects (pay_goods, hold_goods, release_goods,
-- goods for each status, raise_to_fit) raises PM010 for a kind it does not
-- know, and changes nothing. The 'gift' order is a row value built in SQL,
-- never inserted.
BEGIN;
SELECT plan(11);
-- an order kind the schema does not know yet: the kind domain's rule is dropped
-- inside this rolled-back transaction, as a new kind added without its effects
ALTER DOMAIN payments.order_kind DROP CONSTRAINT order_kind_check;

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
CREATE TEMP TABLE gift AS
    SELECT jsonb_populate_record(test_helpers.ord('T-1'), '{"kind": "gift"}') AS o;
SELECT is((SELECT (o).kind FROM gift), 'gift', 'setup: a payments.orders row value of kind gift');

SELECT throws_ok($$SELECT payments_private.pay_goods((SELECT o FROM gift))$$, 'PM010', NULL,
                 'pay_goods: PM010');
SELECT throws_ok($$SELECT payments_private.hold_goods((SELECT o FROM gift))$$, 'PM010', NULL,
                 'hold_goods: PM010');
SELECT throws_ok($$SELECT payments_private.release_goods((SELECT o FROM gift))$$, 'PM010', NULL,
                 'release_goods: PM010');
SELECT throws_ok($$SELECT payments_private.raise_to_fit((SELECT o FROM gift))$$, 'PM010', NULL,
                 'raise_to_fit: PM010');
SELECT throws_ok(format('SELECT payments_private.goods(jsonb_populate_record(test_helpers.ord(%L), %L), NULL)',
                        'T-1', jsonb_build_object('kind', 'gift', 'status', s)), 'PM010', NULL,
                 'goods of a ' || s || ' gift order: PM010')
  FROM unnest(ARRAY['paid', 'pending', 'expired']) AS s;
SELECT throws_ok($$SELECT payments_private.pay_goods(
                       jsonb_populate_record(test_helpers.ord('T-1'), '{"kind": null}'))$$, 'PM010', NULL,
                 'a NULL kind is unknown too');
SELECT is(test_helpers.slot_counts('S1') || ' ' || test_helpers.status('T-1'), '2/0 pending', 'nothing changed');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
