-- payments_private.decide_event(recorded_stage, recorded_at, event_stage,
-- event_at, evidence), every cell: 14 recorded stages (NULL = the transaction
-- is not in the ledger yet) x 13 event stages x 3 evidences (notification,
-- status_api, action) x 3 Midtrans times of the event (earlier than, equal
-- to, later than the recorded one). The expected table is written out below:
--   n  new           the transaction is not recorded yet
--   d  duplicate     the recorded stage again
--   a  advance       a later stage Midtrans can reach from the recorded one
--   b  behind / unreachable: stale for a notification, disagreement for the
--      Status API or an action call (they say what Midtrans holds now)
-- Time only matters for the same partial_refund (40) / partial_chargeback
-- (42) stage: a later Midtrans time advances (a further refund), an equal or
-- earlier one is a duplicate. Everywhere else time changes nothing.
BEGIN;
SELECT plan(1647);

CREATE TEMP TABLE expected_cells (recorded smallint, cells text) ON COMMIT DROP;
INSERT INTO expected_cells VALUES
    --     event: 10 11 20 21 22 30 31 32 33 40 41 42 43
    (NULL,       'n  n  n  n  n  n  n  n  n  n  n  n  n'),
    (10,         'd  a  a  a  a  a  a  a  a  a  a  a  a'),
    (11,         'b  d  a  a  a  a  a  a  a  a  a  a  a'),
    (20,         'b  b  d  a  a  a  a  b  b  a  a  a  a'),
    (21,         'b  b  b  d  a  a  a  b  b  a  a  a  a'),
    (22,         'b  b  b  b  d  a  b  b  b  a  a  a  a'),
    (30,         'b  b  b  b  b  d  b  b  b  b  b  b  b'),
    (31,         'b  b  b  b  b  b  d  b  b  b  b  b  b'),
    (32,         'b  b  b  b  b  b  b  d  b  b  b  b  b'),
    (33,         'b  b  b  b  b  b  b  b  d  b  b  b  b'),
    (40,         'b  b  b  b  b  b  b  b  b  d  a  a  a'),
    (41,         'b  b  b  b  b  b  b  b  b  b  d  b  b'),
    (42,         'b  b  b  b  b  b  b  b  b  b  b  d  a'),
    (43,         'b  b  b  b  b  b  b  b  b  b  b  b  d');

-- the only cells where the event's Midtrans time changes the decision
CREATE TEMP TABLE expected_by_time (recorded smallint, event smallint, timing text, outcome text) ON COMMIT DROP;
INSERT INTO expected_by_time VALUES
    (40, 40, 'later', 'advance'),
    (42, 42, 'later', 'advance');

CREATE TEMP TABLE cells ON COMMIT DROP AS
SELECT x.recorded, s.stage AS event, c.code
  FROM expected_cells AS x
 CROSS JOIN LATERAL unnest(regexp_split_to_array(x.cells, '\s+')) WITH ORDINALITY AS c (code, i)
  JOIN unnest('{10,11,20,21,22,30,31,32,33,40,41,42,43}'::smallint[]) WITH ORDINALITY AS s (stage, i)
    ON s.i = c.i;

SELECT is((SELECT count(*) FROM cells), 14 * 13::bigint, 'the expected table has 14 x 13 cells');

SELECT is(payments_private.decide_event(c.recorded, CASE WHEN c.recorded IS NOT NULL THEN r.recorded_at END,
                                        c.event, t.event_at, e.evidence),
          coalesce((SELECT b.outcome FROM expected_by_time AS b
                     WHERE b.recorded = c.recorded AND b.event = c.event AND b.timing = t.timing),
                   CASE c.code WHEN 'n' THEN 'new' WHEN 'd' THEN 'duplicate' WHEN 'a' THEN 'advance'
                               WHEN 'b' THEN CASE e.evidence WHEN 'notification' THEN 'stale'
                                                             ELSE 'disagreement' END END),
          format('recorded %s, %s %s (%s event time)', coalesce(c.recorded::text, 'nothing'), e.evidence,
                 c.event, t.timing))
  FROM cells AS c
 CROSS JOIN (VALUES ('notification'), ('status_api'), ('action')) AS e (evidence)
 CROSS JOIN (VALUES ('earlier', '2026-01-10 09:00:00+07'::timestamptz),
                    ('equal', '2026-01-10 10:00:00+07'::timestamptz),
                    ('later', '2026-01-10 11:00:00+07'::timestamptz)) AS t (timing, event_at)
 CROSS JOIN (VALUES ('2026-01-10 10:00:00+07'::timestamptz)) AS r (recorded_at)
 ORDER BY c.recorded NULLS FIRST, c.event, e.evidence, t.timing;

-- a missing Midtrans time (a body without settlement_time / refunds[])
SELECT is(payments_private.decide_event(40::smallint, NULL, 40::smallint, '2026-01-10 10:00:00+07', 'notification'),
          'advance', 'a partial refund with a time after one recorded without a time advances');
SELECT is(payments_private.decide_event(40::smallint, '2026-01-10 10:00:00+07', 40::smallint, NULL, 'notification'),
          'duplicate', 'a partial refund without a time after one with a time is a duplicate');
SELECT is(payments_private.decide_event(42::smallint, NULL, 42::smallint, NULL, 'status_api'),
          'duplicate', 'two partial chargebacks without a time are duplicates');
SELECT is(payments_private.decide_event(22::smallint, NULL, 22::smallint, '2026-01-10 10:00:00+07', 'notification'),
          'duplicate', 'a settlement with a time after one without is still a duplicate');
SELECT is(payments_private.decide_event(NULL, NULL, 30::smallint, NULL, 'status_api'),
          'new', 'anything for an unrecorded transaction is new, from any evidence');
-- the evidence only matters for what is behind
SELECT is(payments_private.decide_event(22::smallint, NULL, 10::smallint, NULL, 'local'),
          'stale', 'evidence other than status_api / action is treated like a notification');
SELECT is(payments_private.decide_event(22::smallint, NULL, 10::smallint, NULL, NULL),
          'stale', 'so is a missing evidence');

SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'payments_private.decide_event(smallint, timestamptz, smallint, timestamptz, text)'::regprocedure),
          'i', 'decide_event is declared IMMUTABLE');

SELECT * FROM finish();
ROLLBACK;
