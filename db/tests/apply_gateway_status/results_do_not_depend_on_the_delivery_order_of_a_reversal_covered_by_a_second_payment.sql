-- The order follows from the whole ledger, never from the order events
-- arrive in. Four events of one order: tx-A settles, tx-B settles, tx-B's old
-- capture/challenge is redelivered, tx-A is denied (a reversal). Every one of
-- the 24 delivery orders (generated below, each applied to its own order)
-- ends with the same fingerprint (status, goods, open reviews) and the same
-- open reviews per transaction; tx-B's ledger row stays settlement (a stale
-- challenge never rewrites it).
BEGIN;
SELECT plan(9);

SELECT test_helpers.slot('S1', 100);

CREATE TEMP TABLE events (n integer PRIMARY KEY, transaction_status text, fraud_status text, transaction_id text)
    ON COMMIT DROP;
INSERT INTO events VALUES
    (1, 'settlement', NULL, 'tx-A'),
    (2, 'settlement', NULL, 'tx-B'),
    (3, 'capture', 'challenge', 'tx-B'),
    (4, 'deny', NULL, 'tx-A');

-- every permutation of the four events, as an array of event numbers
CREATE TEMP TABLE permutations ON COMMIT DROP AS
WITH RECURSIVE p (seq) AS (
    SELECT ARRAY[n] FROM events
    UNION ALL
    SELECT p.seq || e.n FROM p JOIN events AS e ON e.n <> ALL (p.seq)
)
SELECT row_number() OVER (ORDER BY seq) AS k, seq, 'T-' || array_to_string(seq, '') AS order_number
  FROM p WHERE cardinality(seq) = 4;

SELECT is((SELECT count(DISTINCT seq) FROM permutations), 24::bigint, '24 delivery orders');

SELECT test_helpers.ticket_order(order_number, 'S1', 2) FROM permutations ORDER BY k;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.order_number, e.transaction_status, e.fraud_status, e.transaction_id
               FROM permutations AS p
              CROSS JOIN LATERAL unnest(p.seq) WITH ORDINALITY AS s (n, i)
               JOIN events AS e ON e.n = s.n
              ORDER BY p.k, s.i LOOP
        PERFORM test_helpers.gateway(r.order_number, r.transaction_status, r.fraud_status, r.transaction_id);
    END LOOP;
END
$$;

SELECT is((SELECT count(DISTINCT test_helpers.fingerprint(order_number)) FROM permutations), 1::bigint,
          'every delivery order ends with the same fingerprint');
SELECT is((SELECT count(DISTINCT coalesce(test_helpers.open_reviews(order_number), '')) FROM permutations),
          1::bigint, 'and the same open reviews, transaction by transaction');
SELECT is(test_helpers.fingerprint('T-1234'),
          '{"status": "paid", "active_tickets": 2, "finalized": 2, "fulfilled": true, "released": false,
            "open_reviews": "duplicate_payment,payment_reversed"}'::jsonb,
          'which is: paid by tx-B, with its goods out, the reversal and the second payment under review');
SELECT is(test_helpers.open_reviews('T-1234'), 'duplicate_payment:tx-A,tx-B,payment_reversed:tx-A',
          'payment_reversed is about tx-A, duplicate_payment lists both payments');
SELECT is((SELECT count(*) FROM permutations WHERE test_helpers.ledger(order_number) <> 'tx-A:30,tx-B:22'),
          0::bigint, 'every ledger ends tx-A denied, tx-B settled: the stale challenge never rewrites tx-B');
SELECT is((SELECT count(*) FROM permutations WHERE NOT (test_helpers.tx(order_number, 'tx-A')).seen_paid),
          0::bigint, 'tx-A is known to have been paid whether its settlement came before or after its deny');
SELECT is(test_helpers.slot_counts('S1'), '0/48', '24 orders of 2 seats sold, nothing held twice');
SELECT is_empty('SELECT * FROM payments.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
