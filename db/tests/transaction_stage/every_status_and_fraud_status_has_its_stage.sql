-- payments.transaction_stage(transaction_status, fraud_status), every cell of
-- status x fraud_status. Expected (docs/ARCHITECTURE.md, "The ledger"):
--   10 pending  11 authorize  20 capture or settlement with fraud challenge
--   21 capture (accept)  22 settlement (accept)  30 deny, or capture /
--   settlement with fraud deny  31 cancel  32 expire  33 failure
--   40 partial_refund  41 refund  42 partial_chargeback  43 chargeback
-- fraud_status NULL or '' means accept; a fraud_status Midtrans does not have
-- and a status it does not have give NULL (logged as unknown_status).
BEGIN;
SELECT plan(15 * 6);

CREATE TEMP TABLE expected (ts text, stages text) ON COMMIT DROP;
INSERT INTO expected VALUES
    --   fraud_status:     NULL  ''    accept challenge deny  whatever
    ('pending',            '10   10    10     10        10    -'),
    ('authorize',          '11   11    11     11        11    -'),
    ('capture',            '21   21    21     20        30    -'),
    ('settlement',         '22   22    22     20        30    -'),
    ('deny',               '30   30    30     30        30    -'),
    ('cancel',             '31   31    31     31        31    -'),
    ('expire',             '32   32    32     32        32    -'),
    ('failure',            '33   33    33     33        33    -'),
    ('partial_refund',     '40   40    40     40        40    -'),
    ('refund',             '41   41    41     41        41    -'),
    ('partial_chargeback', '42   42    42     42        42    -'),
    ('chargeback',         '43   43    43     43        43    -'),
    ('settled_maybe',      '-    -     -      -         -     -'),
    ('',                   '-    -     -      -         -     -'),
    (NULL,                 '-    -     -      -         -     -');

SELECT is(payments.transaction_stage(e.ts, f.fs),
          nullif(c.stage, '-')::smallint,
          format('%s / %s -> %s', coalesce(quote_literal(e.ts), 'NULL'), coalesce(quote_literal(f.fs), 'NULL'),
                 c.stage))
  FROM expected AS e
 CROSS JOIN LATERAL unnest(regexp_split_to_array(e.stages, '\s+')) WITH ORDINALITY AS c (stage, i)
  JOIN (VALUES (1, NULL), (2, ''), (3, 'accept'), (4, 'challenge'), (5, 'deny'), (6, 'whatever'))
       AS f (i, fs) ON f.i = c.i
 ORDER BY e.ts NULLS LAST, f.i;

SELECT * FROM finish();
ROLLBACK;
