-- payments_private.stage_reachable(from_stage, to_stage), every cell of the
-- 13 x 13 stage table plus an unknown / NULL from-stage. Midtrans' documented
-- transitions (directly or through statuses we may not have heard of):
-- pending -> anything later; authorize -> capture / settlement / deny /
-- cancel / expire / failure and on; challenge -> accept / settlement / deny /
-- cancel and on; capture -> settlement / deny / cancel and on; settlement ->
-- deny (a reversal) / refunds / chargebacks; partial_refund -> refund /
-- chargebacks; partial_chargeback -> chargeback. deny, cancel, expire,
-- failure, refund and chargeback are final. No stage reaches itself or an
-- earlier one.
BEGIN;
SELECT plan(13 * 15 + 4);

CREATE TEMP TABLE expected_rows (from_stage smallint, cells text) ON COMMIT DROP;
INSERT INTO expected_rows VALUES
    --        to: 10 11 20 21 22 30 31 32 33 40 41 42 43
    (10,         '.  x  x  x  x  x  x  x  x  x  x  x  x'),
    (11,         '.  .  x  x  x  x  x  x  x  x  x  x  x'),
    (20,         '.  .  .  x  x  x  x  .  .  x  x  x  x'),
    (21,         '.  .  .  .  x  x  x  .  .  x  x  x  x'),
    (22,         '.  .  .  .  .  x  .  .  .  x  x  x  x'),
    (30,         '.  .  .  .  .  .  .  .  .  .  .  .  .'),
    (31,         '.  .  .  .  .  .  .  .  .  .  .  .  .'),
    (32,         '.  .  .  .  .  .  .  .  .  .  .  .  .'),
    (33,         '.  .  .  .  .  .  .  .  .  .  .  .  .'),
    (40,         '.  .  .  .  .  .  .  .  .  .  x  x  x'),
    (41,         '.  .  .  .  .  .  .  .  .  .  .  .  .'),
    (42,         '.  .  .  .  .  .  .  .  .  .  .  .  x'),
    (43,         '.  .  .  .  .  .  .  .  .  .  .  .  .'),
    -- not a stage / not recorded: reaches nothing
    (99,         '.  .  .  .  .  .  .  .  .  .  .  .  .'),
    (NULL,       '.  .  .  .  .  .  .  .  .  .  .  .  .');

SELECT is(payments_private.stage_reachable(r.from_stage, s.stage), c.code = 'x',
          format('%s -> %s', coalesce(r.from_stage::text, 'NULL'), s.stage))
  FROM expected_rows AS r
 CROSS JOIN LATERAL unnest(regexp_split_to_array(r.cells, '\s+')) WITH ORDINALITY AS c (code, i)
  JOIN unnest('{10,11,20,21,22,30,31,32,33,40,41,42,43}'::smallint[]) WITH ORDINALITY AS s (stage, i)
    ON s.i = c.i
 ORDER BY r.from_stage NULLS LAST, s.stage;

SELECT is(payments_private.stage_reachable(10::smallint, NULL), false, 'to NULL: false, not NULL');
SELECT is((SELECT count(*) FROM unnest('{10,11,20,21,22,30,31,32,33,40,41,42,43}'::smallint[]) AS a (s)
            CROSS JOIN unnest('{10,11,20,21,22,30,31,32,33,40,41,42,43}'::smallint[]) AS b (s)
           WHERE payments_private.stage_reachable(a.s, b.s) AND b.s <= a.s), 0::bigint,
          'stages only grow: nothing reaches itself or an earlier stage');
SELECT is((SELECT count(*) FROM unnest('{10,11,20,21,22,30,31,32,33,40,41,42,43}'::smallint[]) AS a (s)
            CROSS JOIN unnest('{10,11,20,21,22,30,31,32,33,40,41,42,43}'::smallint[]) AS b (s)
            CROSS JOIN unnest('{10,11,20,21,22,30,31,32,33,40,41,42,43}'::smallint[]) AS c (s)
           WHERE payments_private.stage_reachable(a.s, b.s) AND payments_private.stage_reachable(b.s, c.s)
             AND NOT payments_private.stage_reachable(a.s, c.s)), 0::bigint,
          'reachability is transitive (a path through unheard-of statuses is still reachable)');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'payments_private.stage_reachable(smallint, smallint)'::regprocedure),
          'i', 'stage_reachable is declared IMMUTABLE');

SELECT * FROM finish();
ROLLBACK;
