-- The life of one Midtrans transaction, as numbers that only grow.
--
-- payments.transaction_stage(transaction_status, fraud_status)
-- Where a status stands in one transaction's life; NULL for a status Midtrans
-- does not have (logged as unknown_status):
--   10 pending  11 authorize
--   20 capture/challenge  21 capture/accept  22 settlement
--   30 deny (also capture or settlement with fraud deny)  31 cancel  32 expire  33 failure
--   40 partial_refund  41 refund  42 partial_chargeback  43 chargeback
-- Every legal path through Midtrans' transitions visits increasing stages, so
-- whatever order the events of one transaction arrive in, the highest stage
-- is the last word (docs/ARCHITECTURE.md, "The ledger").
DROP FUNCTION IF EXISTS payments.normalize_midtrans_status(text, text);
DROP FUNCTION IF EXISTS payments.gateway_rank(text);
DROP FUNCTION IF EXISTS payments.other_paid_transaction(bigint, text);
DROP TYPE IF EXISTS payments.normalized_status;

-- The rule lives in payments_private.stage_of, plain SQL that the planner
-- inlines into apply_gateway_status (no call, no search_path switch per
-- event); payments.transaction_stage is its public face.
CREATE OR REPLACE FUNCTION payments_private.stage_of(transaction_status text, fraud_status text)
RETURNS smallint
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    -- status -> fraud_status (blank: accept) -> stage; a fraud_status other
    -- than accept / challenge / deny, or a status not listed, is NULL. A table
    -- looked up, not a CASE per status: an inlined expression is compiled
    -- again in every transaction, and two lookups compile to a tenth of the
    -- steps of the CASE they replace.
    SELECT ('{
      "pending": {"accept": 10, "challenge": 10, "deny": 10},
      "authorize": {"accept": 11, "challenge": 11, "deny": 11},
      "capture": {"accept": 21, "challenge": 20, "deny": 30},
      "settlement": {"accept": 22, "challenge": 20, "deny": 30},
      "deny": {"accept": 30, "challenge": 30, "deny": 30},
      "cancel": {"accept": 31, "challenge": 31, "deny": 31},
      "expire": {"accept": 32, "challenge": 32, "deny": 32},
      "failure": {"accept": 33, "challenge": 33, "deny": 33},
      "partial_refund": {"accept": 40, "challenge": 40, "deny": 40},
      "refund": {"accept": 41, "challenge": 41, "deny": 41},
      "partial_chargeback": {"accept": 42, "challenge": 42, "deny": 42},
      "chargeback": {"accept": 43, "challenge": 43, "deny": 43}
    }'::jsonb -> lower(btrim(stage_of.transaction_status))
              ->> coalesce(nullif(lower(btrim(stage_of.fraud_status)), ''), 'accept'))::smallint
$$;

COMMENT ON FUNCTION payments_private.stage_of(text, text) IS
    'Stage of a Midtrans status within one transaction (the rule; inlined SQL)';

CREATE OR REPLACE FUNCTION payments.transaction_stage(transaction_status text, fraud_status text DEFAULT NULL)
RETURNS smallint
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
    SELECT payments_private.stage_of(transaction_stage.transaction_status, transaction_stage.fraud_status)
$$;

COMMENT ON FUNCTION payments.transaction_stage(text, text) IS
    'Stage of a Midtrans status within one transaction (10 pending .. 43 chargeback); NULL = unknown status';

-- payments_private.stage_reachable(from_stage, to_stage)
-- Can Midtrans move a transaction from one stage to the other (directly or
-- through statuses we may not have heard of)? From the documented transitions:
-- pending -> authorize / capture / settlement / deny / cancel / expire /
-- failure; authorize -> capture / cancel / expire / deny; challenge -> accept
-- (approve) / deny / cancel; capture -> settlement / cancel; settlement ->
-- deny (a reversal) / refunds / chargebacks; partial_refund -> refund;
-- partial_chargeback -> chargeback.
CREATE OR REPLACE FUNCTION payments_private.stage_reachable(from_stage smallint, to_stage smallint)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    -- from -> the stages reachable from it; a table looked up, not a CASE of
    -- arrays (inlined twice into apply_gateway_status, and compiled again in
    -- every transaction)
    SELECT coalesce('{
      "10": ["11", "20", "21", "22", "30", "31", "32", "33", "40", "41", "42", "43"],
      "11": ["20", "21", "22", "30", "31", "32", "33", "40", "41", "42", "43"],
      "20": ["21", "22", "30", "31", "40", "41", "42", "43"],
      "21": ["22", "30", "31", "40", "41", "42", "43"],
      "22": ["30", "40", "41", "42", "43"],
      "40": ["41", "42", "43"],
      "42": ["43"]
    }'::jsonb -> stage_reachable.from_stage::text ? stage_reachable.to_stage::text, false)
$$;

COMMENT ON FUNCTION payments_private.stage_reachable(smallint, smallint) IS
    'Whether Midtrans can move a transaction from one stage to a later one';

-- payments_private.decide_event(recorded_stage, recorded_at, event_stage, event_at, evidence)
-- The ledger's decision for one event of one transaction, a pure function:
--   new           the transaction was not recorded yet
--   advance       a later stage Midtrans can reach from the recorded one, or
--                 the same partial refund / chargeback stage with a later
--                 Midtrans time: the row is rewritten
--   duplicate     the recorded stage again: nothing to rewrite
--   stale         an older stage, or one Midtrans cannot reach from the
--                 recorded one, in a notification: never rewrites the row
--   disagreement  the same from the Status API or an action call, which say
--                 what Midtrans holds now: the record and Midtrans disagree
CREATE OR REPLACE FUNCTION payments_private.decide_event(
    recorded_stage smallint,
    recorded_at timestamptz,
    event_stage smallint,
    event_at timestamptz,
    evidence text
)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN decide_event.recorded_stage IS NULL THEN 'new'
        WHEN decide_event.event_stage = decide_event.recorded_stage THEN
            CASE WHEN decide_event.event_stage IN (40, 42)
                      AND decide_event.event_at > coalesce(decide_event.recorded_at, '-infinity')
                 THEN 'advance' ELSE 'duplicate' END
        WHEN payments_private.stage_reachable(decide_event.recorded_stage, decide_event.event_stage)
            THEN 'advance'
        WHEN decide_event.evidence IN ('status_api', 'action') THEN 'disagreement'
        ELSE 'stale'
    END
$$;

COMMENT ON FUNCTION payments_private.decide_event(smallint, timestamptz, smallint, timestamptz, text) IS
    'Ledger decision for one event of one transaction: new | advance | duplicate | stale | disagreement';

-- payments_private.cover(stage, gross_amount)
-- How much of an order's price a transaction covers. A completed payment
-- covers its amount; a partial refund or a chargeback does not take goods
-- back by itself (a review is opened and people decide); a refund covers
-- nothing; a pending, authorised, challenged or failed attempt covers nothing.
CREATE OR REPLACE FUNCTION payments_private.cover(stage smallint, gross_amount numeric)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE WHEN cover.stage IN (21, 22, 40, 42, 43) THEN cover.gross_amount ELSE 0 END
$$;

COMMENT ON FUNCTION payments_private.cover(smallint, numeric) IS
    'Amount of the order a transaction at this stage covers (completed payments; refunds cover nothing)';

-- payments_private.midtrans_time(text)
-- A Midtrans time ("2026-11-26 10:00:00", Jakarta time) as timestamptz; NULL
-- for anything else.
CREATE OR REPLACE FUNCTION payments_private.midtrans_time(value text)
RETURNS timestamptz
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    -- the shape, without a regular expression (its matcher is set up anew
    -- for every call, three times the cost of this): the separators in place
    -- and only digits in between
    SELECT CASE WHEN midtrans_time.value LIKE '____-__-__ __:__:__'
                     AND translate(midtrans_time.value, '0123456789', '') = '-- ::'
                THEN (midtrans_time.value || '+07')::timestamptz END
$$;

COMMENT ON FUNCTION payments_private.midtrans_time(text) IS
    'A Midtrans "YYYY-MM-DD HH:MM:SS" (Jakarta) time as timestamptz, else NULL';

-- payments_private.event_facts(stage, payload)
-- What a Midtrans body says beyond its status: Midtrans' own time of the
-- event (settlement_time; the newest refund's created_at), the cumulative
-- refund_amount (carried by refund and chargeback bodies alike), and whether
-- it shows the transaction was paid (a reversed
-- transaction keeps its settlement_time).
CREATE OR REPLACE FUNCTION payments_private.event_facts(
    stage smallint, payload jsonb,
    OUT midtrans_at timestamptz, OUT refund_amount numeric, OUT shows_paid boolean
)
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
DECLARE
    v_refund text;
BEGIN
    midtrans_at := NULL;
    refund_amount := NULL;
    shows_paid := event_facts.stage IN (21, 22, 40, 41, 42, 43);
    IF jsonb_typeof(event_facts.payload) <> 'object' THEN
        RETURN;
    END IF;
    IF event_facts.stage = 22 THEN
        midtrans_at := payments_private.midtrans_time(event_facts.payload ->> 'settlement_time');
    ELSIF event_facts.stage IN (40, 41) AND jsonb_typeof(event_facts.payload -> 'refunds') = 'array' THEN
        SELECT max(payments_private.midtrans_time(r ->> 'created_at')) INTO midtrans_at
          FROM jsonb_array_elements(event_facts.payload -> 'refunds') AS r
         WHERE jsonb_typeof(r) = 'object';
    END IF;
    v_refund := event_facts.payload ->> 'refund_amount';
    IF event_facts.stage IN (40, 41, 42, 43) AND v_refund ~ '^\d{1,12}(\.\d{1,2})?$' THEN
        refund_amount := v_refund::numeric;
    END IF;
    shows_paid := shows_paid
        OR (event_facts.stage IN (30, 33)
            AND payments_private.midtrans_time(event_facts.payload ->> 'settlement_time') IS NOT NULL);
END
$$;

COMMENT ON FUNCTION payments_private.event_facts(smallint, jsonb) IS
    'Midtrans time, cumulative refund amount and paid-evidence carried by a Midtrans body';
