-- payments.apply_gateway_status(order_number, transaction_status, fraud_status,
--     gross_amount, transaction_id, status_code, source, payload, run_id,
--     evidence, trigger_only)
-- The single entry point for a Midtrans status from any caller, one
-- transaction:
--   1. the status_code must be one Midtrans documents for the status and the
--      evidence (the signature does not cover transaction_status);
--   2. lock the order; the ledger decides the event for its transaction
--      (payments_private.decide_event): new, advance, duplicate, stale or
--      disagreement; a stale event never rewrites the ledger row;
--   3. the order's status follows from its whole ledger
--      (payments_private.derive): paid when the standing payments cover the
--      price, pending while the payment window is open, else released;
--   4. goods follow the status (payments_private.goods); the reviews the
--      ledger calls for are opened, tracking ones closed;
--   5. one webhook_logs row with the decision (a sync / reconcile answer that
--      changed nothing is only counted in its run).
-- trigger_only: a notification that would change the money, the goods or the
-- reviews is not applied; the answer is 'confirm' and the caller applies the
-- Status API's answer for that transaction instead.

-- payments_private.ledger_entry(t)
-- One ledger row as derive reads it: {transaction_id, stage, gross_amount,
-- seen_paid}. The one place this shape is written (SQL, inlined).
CREATE OR REPLACE FUNCTION payments_private.ledger_entry(t payments.gateway_transactions)
RETURNS jsonb
LANGUAGE sql
STABLE          -- as jsonb_build_object: an IMMUTABLE label would stop the planner inlining it
PARALLEL SAFE
AS $$
    SELECT jsonb_build_object('transaction_id', (ledger_entry.t).transaction_id, 'stage', (ledger_entry.t).stage,
                              'gross_amount', (ledger_entry.t).gross_amount, 'seen_paid', (ledger_entry.t).seen_paid)
$$;

COMMENT ON FUNCTION payments_private.ledger_entry(payments.gateway_transactions) IS
    'One ledger row as jsonb {transaction_id, stage, gross_amount, seen_paid}';

-- payments_private.ledger_of(order_id, except_transaction)
-- The order's ledger as [ledger_entry, ...], by transaction id.
CREATE OR REPLACE FUNCTION payments_private.ledger_of(order_id bigint, except_transaction text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
BEGIN
    RETURN (
        SELECT coalesce(jsonb_agg(payments_private.ledger_entry(t) ORDER BY t.transaction_id), '[]'::jsonb)
          FROM payments.gateway_transactions AS t
         WHERE t.order_id = ledger_of.order_id
           AND t.transaction_id IS DISTINCT FROM ledger_of.except_transaction);
END
$$;

COMMENT ON FUNCTION payments_private.ledger_of(bigint, text) IS
    'An order''s ledger as jsonb [{transaction_id, stage, gross_amount, seen_paid}]';

-- payments_private.derive(o, ledger)
-- What an order is, from its ledger and its own facts (a hand-recorded
-- refund, a local expiry, an accepted amount): the standing money, whether it
-- covers the price, whether the payment window is closed and how, the status
-- (payments_private.order_status_for) and the reviews the ledger calls for.
CREATE OR REPLACE FUNCTION payments_private.derive(o payments.orders, ledger jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    e jsonb;
    v_stage smallint;
    v_amount numeric;
    v_standing numeric := 0;
    v_refunded boolean := (derive.o).refunded_manually_at IS NOT NULL;
    v_expired boolean := (derive.o).expired_locally_at IS NOT NULL;
    v_closed boolean := v_refunded OR v_expired;
    v_paid_count integer := 0;
    v_flags boolean := false;       -- anything review_conditions could ask for
    v_covered boolean;
BEGIN
    -- a procedural walk (no query): a ledger holds a few rows, and this runs
    -- on every event
    FOR i IN 0 .. coalesce(jsonb_array_length(derive.ledger), 0) - 1 LOOP
        e := derive.ledger -> i;
        v_stage := (e ->> 'stage')::smallint;
        v_amount := (e ->> 'gross_amount')::numeric;
        v_standing := v_standing + payments_private.cover(v_stage, v_amount);
        v_closed := v_closed OR v_stage IN (31, 32, 41);
        v_refunded := v_refunded OR v_stage = 41;
        v_expired := v_expired OR v_stage = 32;
        IF (e ->> 'seen_paid')::boolean THEN
            v_paid_count := v_paid_count + 1;
            v_flags := v_flags OR v_amount <> (derive.o).gross_amount OR v_stage IN (30, 33);
        END IF;
        v_flags := v_flags OR v_stage IN (20, 40, 42, 43);
    END LOOP;
    v_covered := (derive.o).refunded_manually_at IS NULL
        AND v_standing >= coalesce((derive.o).accepted_amount, (derive.o).gross_amount);
    RETURN jsonb_build_object(
        'standing', v_standing, 'covered', v_covered, 'window_closed', v_closed,
        'status', payments_private.order_status_for(v_covered, v_closed,
                      CASE WHEN v_refunded THEN 'refunded' WHEN v_expired THEN 'expired' ELSE 'failed' END),
        'conditions', CASE WHEN v_flags OR v_paid_count > 1
                           THEN payments_private.review_conditions((derive.o).gross_amount, derive.ledger)
                           ELSE '[]'::jsonb END);
END
$$;

COMMENT ON FUNCTION payments_private.derive(payments.orders, jsonb) IS
    'An order''s standing money, coverage, window, status and review conditions, from its ledger';

-- payments_private.settle(o, status, delta, log_id, checked)
-- Makes the (locked) order what was derived: its status, the goods of that
-- status (when it changed or a repair is due), the review delta. `checked`
-- records that the Status API answered (sync / reconcile). The goods effect
-- receives the order with its new status and writes it together with its
-- markers (one row version, not two); whatever no effect wrote is written
-- here. Returns the effect.
CREATE OR REPLACE FUNCTION payments_private.settle(
    o payments.orders, status text, delta jsonb, log_id bigint, checked boolean DEFAULT false
)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_previous text := o.status;
    v_repair text := o.repair;
    v_effect jsonb;
BEGIN
    IF settle.status = 'paid' AND v_previous <> 'paid' THEN
        o.paid_at := payments_private.clock();
    END IF;
    IF settle.checked THEN
        o.gateway_checked_at := payments_private.clock();
    END IF;
    o.status := settle.status;
    IF o.status <> v_previous OR v_repair IS NOT NULL THEN
        v_effect := payments_private.goods(o, settle.log_id);
    END IF;
    -- an effect that did something ('tickets_issued', 'capacity_released', ...)
    -- wrote the status with its markers; otherwise it is written here
    IF coalesce(v_effect ->> 'effect', 'none') IN ('none', 'review') THEN
        UPDATE payments.orders AS x
           SET status = o.status, paid_at = o.paid_at, gateway_checked_at = o.gateway_checked_at,
               updated_at = payments_private.clock()
         WHERE x.id = o.id
           AND (x.status, x.paid_at, x.gateway_checked_at)
               IS DISTINCT FROM (o.status, o.paid_at, o.gateway_checked_at);
    END IF;
    IF jsonb_array_length(settle.delta -> 'open') + jsonb_array_length(settle.delta -> 'close') > 0 THEN
        PERFORM payments_private.apply_review_delta(o.id, settle.delta, settle.log_id);
    END IF;
    RETURN v_effect;
END
$$;

COMMENT ON FUNCTION payments_private.settle(payments.orders, text, jsonb, bigint, boolean) IS
    'Sets the derived status, runs the goods effect it calls for, applies the review delta';

-- payments_private.rederive(order_id, log_id)
-- Re-derives a locked order from its ledger after one of its own facts
-- changed (resolve_review, a local expiry) and settles it. Returns
-- {previous_status, status, effect, delta}.
CREATE OR REPLACE FUNCTION payments_private.rederive(order_id bigint, log_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    d jsonb;
    v_delta jsonb;
    v_effect jsonb;
BEGIN
    SELECT * INTO o FROM payments.orders AS x WHERE x.id = rederive.order_id;
    d := payments_private.derive(o, payments_private.ledger_of(o.id));
    v_delta := payments_private.review_delta(o.id, d -> 'conditions', o.needs_review);
    v_effect := payments_private.settle(o, d ->> 'status', v_delta, rederive.log_id);
    RETURN jsonb_build_object('previous_status', o.status, 'status', d ->> 'status', 'effect', v_effect,
                              'shortfall', v_effect ->> 'effect' = 'review', 'reviews', v_delta,
                              'standing', d -> 'standing');
END
$$;

COMMENT ON FUNCTION payments_private.rederive(bigint, bigint) IS
    'Re-derives and settles a locked order from its ledger and facts';

-- payments_private.count_in_run(run_id, order_number, changed)
-- A sync / reconcile answer counts in its (open) run: checked once per
-- order, changed once per order whose status changed; PM009 for a finished
-- run. An order answered twice in one run (reconcile: Midtrans' answer, then
-- the local close of its window) is checked once and changed at most once.
-- Answers of one run do not wait for each other (answer_in_run, runs.sql).
DROP FUNCTION IF EXISTS payments_private.count_in_run(bigint, boolean);
CREATE OR REPLACE FUNCTION payments_private.count_in_run(run_id bigint, order_number text, changed boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM payments_private.answer_in_run(count_in_run.run_id, count_in_run.order_number, 'checked',
                                           count_in_run.changed, false);
END
$$;

COMMENT ON FUNCTION payments_private.count_in_run(bigint, text, boolean) IS
    'Counts an applied answer in its open run, once per order; PM009 for a finished or unknown run';

CREATE OR REPLACE FUNCTION payments.apply_gateway_status(
    order_number text,
    transaction_status text,
    fraud_status text DEFAULT NULL,
    gross_amount numeric DEFAULT NULL,
    transaction_id text DEFAULT NULL,
    status_code text DEFAULT NULL,
    source text DEFAULT 'manual',
    payload jsonb DEFAULT NULL,
    run_id bigint DEFAULT NULL,
    evidence text DEFAULT NULL,
    trigger_only boolean DEFAULT false
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_ts text := lower(btrim(apply_gateway_status.transaction_status));
    v_fs text := nullif(lower(btrim(apply_gateway_status.fraud_status)), '');
    v_tx text := nullif(btrim(apply_gateway_status.transaction_id), '');
    v_evidence text;
    v_payload jsonb;
    v_stage smallint;
    o payments.orders;
    t payments.gateway_transactions;
    v_rows payments.gateway_transactions[];
    v_others jsonb;                     -- the order's other ledger rows (ledger_entry form)
    f record;
    v_outcome text;
    r payments.gateway_transactions;    -- the ledger row after the event
    v_write boolean;
    v_facts boolean;
    d jsonb;
    v_status text;
    v_delta jsonb;
    v_reviews_change boolean;
    v_effect jsonb;
    v_decision text;
    v_log_id bigint;
    v_changed boolean;
    v_previous text;
    v_source text;
BEGIN
    v_source := payments_private.require_source(apply_gateway_status.source);
    IF apply_gateway_status.evidence IS NOT NULL
       AND apply_gateway_status.evidence NOT IN ('notification', 'status_api', 'action', 'local') THEN
        RAISE EXCEPTION 'evidence must be notification, status_api, action or local, got %',
            apply_gateway_status.evidence USING ERRCODE = 'PM009';
    END IF;
    IF v_ts IS NULL OR v_ts = '' THEN
        RAISE EXCEPTION 'transaction_status is required' USING ERRCODE = 'PM009';
    END IF;
    IF apply_gateway_status.gross_amount IS NOT NULL
       AND (apply_gateway_status.gross_amount <= 0 OR apply_gateway_status.gross_amount >= 1e12
            OR apply_gateway_status.gross_amount <> round(apply_gateway_status.gross_amount, 2)) THEN
        RAISE EXCEPTION 'gross_amount must be positive, below 1e12, with at most 2 decimals, got %',
            apply_gateway_status.gross_amount USING ERRCODE = 'PM009';
    END IF;
    -- what the status rests on: a notification (signed, status unsigned), the
    -- Status API's answer, an action call's answer, or nothing from Midtrans
    v_evidence := coalesce(apply_gateway_status.evidence,
        CASE WHEN apply_gateway_status.source = 'webhook' THEN 'notification'
             WHEN apply_gateway_status.status_code IS NULL
                  AND apply_gateway_status.source IN ('manual', 'reconcile', 'cron') THEN 'local'
             ELSE 'status_api' END);
    -- stored through write_log, which scrubs secrets from every payload
    v_payload := payments_private.bounded(apply_gateway_status.payload, 'payload');
    v_stage := payments_private.stage_of(v_ts, v_fs);

    IF v_stage IS NOT NULL AND NOT payments_private.code_documented(v_evidence, v_ts, v_fs,
                                                                  apply_gateway_status.status_code) THEN
        -- e.g. a signed `201` (pending) body relabelled `settlement`: no
        -- documented source sends that pair; nothing changes
        v_log_id := payments_private.write_log(NULL, apply_gateway_status.source, 'status_inconsistent', 'rejected',
            apply_gateway_status.order_number, v_tx, v_ts, v_fs, apply_gateway_status.status_code,
            apply_gateway_status.gross_amount, CASE WHEN apply_gateway_status.source = 'webhook' THEN true END,
            jsonb_build_object('evidence', v_evidence,
                               'reason', 'Midtrans documents no ' || v_evidence || ' with status_code '
                                         || coalesce(apply_gateway_status.status_code, 'NULL')
                                         || ' for ' || v_ts || coalesce('/' || v_fs, '')),
            v_payload, apply_gateway_status.run_id);
        RETURN jsonb_build_object('order_number', apply_gateway_status.order_number,
                                  'decision', 'status_inconsistent', 'effects', '[]'::jsonb, 'log_id', v_log_id);
    END IF;
    IF v_evidence = 'local' THEN
        IF v_ts <> 'expire' THEN
            RAISE EXCEPTION 'without Midtrans evidence only expire (closing the payment window) can be applied, got %',
                v_ts USING ERRCODE = 'PM009';
        END IF;
        RETURN payments.expire_order(apply_gateway_status.order_number, apply_gateway_status.source, NULL, true,
                                     apply_gateway_status.run_id, v_payload);
    END IF;
    IF v_stage IS NOT NULL AND v_tx IS NULL THEN
        RAISE EXCEPTION 'a status from Midtrans needs its transaction_id' USING ERRCODE = 'PM009';
    END IF;

    o := payments_private.lock_order(apply_gateway_status.order_number);
    v_previous := o.status;
    v_log_id := payments_private.next_log_id();

    IF v_stage IS NULL THEN
        v_outcome := 'unknown';
        v_status := o.status;
        v_decision := 'unknown_status';
        v_changed := false;
    ELSE
        -- this transaction's ledger row and the rest of the order's ledger, in one read
        SELECT array_agg(x) FILTER (WHERE x.transaction_id = v_tx),
               coalesce(jsonb_agg(payments_private.ledger_entry(x) ORDER BY x.transaction_id)
                            FILTER (WHERE x.transaction_id <> v_tx), '[]'::jsonb)
          INTO v_rows, v_others
          FROM payments.gateway_transactions AS x
         WHERE x.order_id = o.id;
        t := v_rows[1];
        f := payments_private.event_facts(v_stage, v_payload);
        v_outcome := payments_private.decide_event(t.stage, t.midtrans_at, v_stage, f.midtrans_at, v_evidence);

        -- the ledger row after the event: rewritten only by a new or later stage
        r := t;
        r.order_id := o.id;
        r.transaction_id := v_tx;
        IF v_outcome IN ('new', 'advance') THEN
            r.transaction_status := v_ts;
            r.fraud_status := v_fs;
            r.stage := v_stage;
            IF apply_gateway_status.gross_amount IS NULL AND payments_private.cover(v_stage, 1) > 0 THEN
                -- never assume the price was paid: a paying status is checked
                -- against the amount it carries (Midtrans always sends one)
                RAISE EXCEPTION 'gross_amount is required with % (transaction %)', v_ts, v_tx
                    USING ERRCODE = 'PM009';
            END IF;
            r.gross_amount := coalesce(apply_gateway_status.gross_amount, t.gross_amount, o.gross_amount);
            r.midtrans_at := f.midtrans_at;
        END IF;
        -- Monotone facts merge from every event that belongs to this row's
        -- history, stale ones included (a settlement arriving after its own
        -- reversal, a partial refund arriving after the chargeback that
        -- followed it), so any delivery order ends with the same row:
        --   seen_paid      the transaction was once paid
        --   refund_amount  the largest cumulative refund Midtrans reported
        --                  (a full refund without one: its gross_amount)
        -- Nothing else of a stale event is written.
        v_facts := v_outcome IN ('new', 'advance', 'duplicate')
            OR (v_outcome = 'stale' AND payments_private.stage_reachable(v_stage, t.stage));
        r.seen_paid := coalesce(t.seen_paid, false) OR (f.shows_paid AND v_facts);
        r.refund_amount := greatest(coalesce(t.refund_amount, 0),
            CASE WHEN v_facts THEN f.refund_amount END,
            CASE WHEN v_outcome IN ('new', 'advance') AND v_stage = 41 AND f.refund_amount IS NULL
                 THEN r.gross_amount END);
        v_write := v_outcome IN ('new', 'advance') OR r.seen_paid IS DISTINCT FROM t.seen_paid
            OR r.refund_amount IS DISTINCT FROM t.refund_amount;

        d := payments_private.derive(o, v_others || jsonb_build_array(payments_private.ledger_entry(r)));
        v_status := d ->> 'status';
        v_delta := payments_private.review_delta(o.id, (d -> 'conditions')
            || CASE WHEN v_outcome = 'disagreement'
                    -- per transaction and reported status: a person's dismissal covers
                    -- this disagreement (every later sync repeats it), not a new one
                    THEN jsonb_build_array(jsonb_build_object('reason', 'gateway_disagreement',
                                                              'subject', v_tx || ':' || v_ts))
                    ELSE '[]'::jsonb END, o.needs_review);
        v_reviews_change := jsonb_array_length(v_delta -> 'open') + jsonb_array_length(v_delta -> 'close') > 0;
        v_decision := payments_private.decision_label(o.status, v_status, v_outcome,
            jsonb_array_length(v_delta -> 'open') > 0, v_outcome IN ('new', 'advance') AND v_stage IN (30, 33));
        v_changed := v_write OR v_status <> o.status OR v_reviews_change;

        -- a notification is only a trigger: what would move money or goods,
        -- or flag, waits for the Status API's answer (nothing is written)
        IF apply_gateway_status.trigger_only
           AND (v_status <> o.status OR v_reviews_change OR (v_write AND (r.stage >= 20 OR r.seen_paid))) THEN
            RETURN jsonb_build_object('order_number', o.order_number, 'kind', o.kind,
                                      'previous_status', o.status, 'new_status', o.status,
                                      'decision', 'confirm', 'would_decide', v_decision, 'effects', '[]'::jsonb);
        END IF;

        IF v_write THEN
            INSERT INTO payments.gateway_transactions AS x (order_id, transaction_id, transaction_status, fraud_status,
                stage, gross_amount, refund_amount, midtrans_at, seen_paid)
            VALUES (o.id, v_tx, r.transaction_status, r.fraud_status, r.stage, r.gross_amount, r.refund_amount,
                    r.midtrans_at, r.seen_paid)
            ON CONFLICT (order_id, transaction_id) DO UPDATE
               SET transaction_status = excluded.transaction_status, fraud_status = excluded.fraud_status,
                   stage = excluded.stage, gross_amount = excluded.gross_amount,
                   refund_amount = excluded.refund_amount, midtrans_at = excluded.midtrans_at,
                   seen_paid = excluded.seen_paid, updated_at = payments_private.clock();
        END IF;
        v_effect := payments_private.settle(o, v_status, v_delta, v_log_id,
                                            apply_gateway_status.source IN ('sync', 'reconcile'));
        IF v_effect ->> 'effect' = 'review' THEN
            v_decision := v_decision || '_review';
        END IF;
    END IF;
    IF v_stage IS NULL AND apply_gateway_status.source IN ('sync', 'reconcile') THEN
        UPDATE payments.orders SET gateway_checked_at = payments_private.clock() WHERE id = o.id;
    END IF;

    -- the order as settled: re-read only when something besides its status
    -- may have changed it (reviews opened or closed, a shortfall review)
    IF v_stage IS NOT NULL AND NOT v_reviews_change AND o.shortfall_at IS NULL
       AND coalesce(v_effect ->> 'effect', 'none') <> 'review' THEN
        o.status := v_status;
    ELSE
        SELECT * INTO o FROM payments.orders AS x WHERE x.id = o.id;
    END IF;
    IF v_effect ->> 'effect' = 'review' THEN   -- the pay effect found no room: paid_after_release
        v_delta := jsonb_set(v_delta, '{open}', (v_delta -> 'open')
                             || '[{"reason": "paid_after_release", "subject": ""}]'::jsonb);
    END IF;
    -- a sync / reconcile answer that changed nothing is counted in its run,
    -- not logged (the run's summary row says how many were checked)
    IF v_changed OR coalesce(v_effect ->> 'effect', 'none') <> 'none' OR v_stage IS NULL
       OR apply_gateway_status.source NOT IN ('sync', 'reconcile') THEN
        v_log_id := payments_private.write_log(v_log_id, apply_gateway_status.source, 'gateway_status', v_decision,
            o.order_number, v_tx, v_ts, v_fs, apply_gateway_status.status_code, apply_gateway_status.gross_amount,
            CASE WHEN apply_gateway_status.source = 'webhook' THEN true END,
            jsonb_build_object('previous_status', v_previous, 'new_status', o.status, 'evidence', v_evidence,
                               'ledger', v_outcome,
                               'effects', CASE WHEN coalesce(v_effect ->> 'effect', 'none') <> 'none'
                                               THEN jsonb_build_array(v_effect) ELSE '[]'::jsonb END,
                               'reviews', v_delta, 'standing', d -> 'standing'),
            v_payload, apply_gateway_status.run_id);
    ELSE
        v_log_id := NULL;
    END IF;
    IF apply_gateway_status.run_id IS NOT NULL THEN
        PERFORM payments_private.count_in_run(apply_gateway_status.run_id, o.order_number, o.status <> v_previous);
    END IF;

    RETURN jsonb_build_object(
        'order_number', o.order_number,
        'kind', o.kind,
        'previous_status', v_previous,
        'new_status', o.status,
        'decision', v_decision,
        'ledger', v_outcome,
        'effects', CASE WHEN coalesce(v_effect ->> 'effect', 'none') <> 'none'
                        THEN jsonb_build_array(v_effect) ELSE '[]'::jsonb END,
        'needs_review', o.needs_review,
        'reviews_opened', coalesce(v_delta -> 'open', '[]'::jsonb),
        'log_id', v_log_id);
END
$$;

COMMENT ON FUNCTION payments.apply_gateway_status(text, text, text, numeric, text, text, text, jsonb, bigint, text, boolean) IS
    'Single entry point for a Midtrans status from any source: check status_code, lock, ledger, derive, settle, log; PM001, PM009, PM015';
