-- payments_private.review_conditions(order_amount, ledger): the reviews a
-- ledger calls for, as [{reason, subject}] sorted by reason and subject, from
-- facts that only grow: fraud_challenge (stage 20), partial_refund (40),
-- partial_chargeback (42), chargeback (43), amount_mismatch (seen paid with
-- an amount other than the price), payment_reversed (seen paid, then denied /
-- failed), duplicate_payment (more than one transaction seen paid; subject '').
BEGIN;
SELECT plan(16);

CREATE FUNCTION pg_temp.tx(id text, stage integer, amount numeric, seen_paid boolean)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('transaction_id', id, 'stage', stage, 'gross_amount', amount, 'seen_paid', seen_paid)
$$;
CREATE FUNCTION pg_temp.reviews(conditions jsonb)
RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(c ->> 'reason' || ':' || (c ->> 'subject'), ',' ORDER BY o), '')
      FROM jsonb_array_elements(conditions) WITH ORDINALITY AS x (c, o)
$$;

SELECT is(payments_private.review_conditions(100000, '[]'), '[]'::jsonb, 'an empty ledger calls for nothing');
SELECT is(pg_temp.reviews(payments_private.review_conditions(100000, x.ledger)), x.expected, x.description)
  FROM (VALUES
    (jsonb_build_array(pg_temp.tx('tx-1', 22, 100000, true)), '',
     'a settlement of the price calls for nothing'),
    (jsonb_build_array(pg_temp.tx('tx-1', 10, 1, false)), '',
     'a pending attempt of another amount calls for nothing (it was never paid)'),
    (jsonb_build_array(pg_temp.tx('tx-1', 20, 100000, false)), 'fraud_challenge:tx-1',
     'a challenged capture: fraud_challenge'),
    (jsonb_build_array(pg_temp.tx('tx-1', 22, 99999, true)), 'amount_mismatch:tx-1',
     'paid with less than the price: amount_mismatch'),
    (jsonb_build_array(pg_temp.tx('tx-1', 21, 100001, true)), 'amount_mismatch:tx-1',
     'paid with more than the price: amount_mismatch'),
    (jsonb_build_array(pg_temp.tx('tx-1', 30, 100000, true)), 'payment_reversed:tx-1',
     'paid, then denied: payment_reversed'),
    (jsonb_build_array(pg_temp.tx('tx-1', 33, 100000, true)), 'payment_reversed:tx-1',
     'paid, then failed: payment_reversed'),
    (jsonb_build_array(pg_temp.tx('tx-1', 30, 100000, false)), '',
     'denied without ever being paid: nothing'),
    (jsonb_build_array(pg_temp.tx('tx-1', 31, 100000, true)), '',
     'captured, then cancelled (voided before settlement): nothing'),
    (jsonb_build_array(pg_temp.tx('tx-1', 40, 100000, true)), 'partial_refund:tx-1',
     'a partial refund: partial_refund'),
    (jsonb_build_array(pg_temp.tx('tx-1', 42, 100000, true)), 'partial_chargeback:tx-1',
     'a partial chargeback: partial_chargeback'),
    (jsonb_build_array(pg_temp.tx('tx-1', 43, 100000, true)), 'chargeback:tx-1',
     'a chargeback: chargeback'),
    (jsonb_build_array(pg_temp.tx('tx-1', 41, 100000, true)), '',
     'a full refund calls for nothing'),
    (jsonb_build_array(pg_temp.tx('tx-1', 22, 100000, true), pg_temp.tx('tx-2', 41, 100000, true)),
     'duplicate_payment:tx-1,tx-2', 'two transactions seen paid, one refunded since: duplicate_payment')
  ) AS x (ledger, expected, description);

SELECT is(pg_temp.reviews(payments_private.review_conditions(150000,
              jsonb_build_array(pg_temp.tx('tx-B', 22, 1.00, true), pg_temp.tx('tx-A', 30, 150000, true),
                                pg_temp.tx('tx-C', 20, 150000, false)))),
          'amount_mismatch:tx-B,duplicate_payment:tx-A,tx-B,fraud_challenge:tx-C,payment_reversed:tx-A',
          'several at once, sorted by reason and subject: tx-A reversed, tx-B paid 1.00 of 150000, tx-C challenged');

SELECT * FROM finish();
ROLLBACK;
