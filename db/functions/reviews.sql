-- Reviews as rows (payments.order_reviews): several may be open on one order.
--
-- Opening: a condition the ledger calls for (payments_private.review_conditions)
-- or an effect reports (paid_after_release) opens one row per (reason,
-- subject), once. A row a person resolved is never reopened for the same
-- (reason, subject).
-- Closing: resolve_review (a person, per reason), or automatically only by
-- what opened it: a challenge decided at Midtrans, a partial refund or
-- chargeback that went on to the full one, a duplicate payment superseded by
-- one listing a further paid transaction, a shortfall later filled
-- ("tracking" reasons). Every other reason stays open until a person decides.

-- payments_private.review_delta(order_id, conditions, any_open)
-- Which reviews the conditions open and which tracking reviews they close
-- (read only, so a trigger-only call can tell whether anything would change).
-- any_open: the order's needs_review (false: no review is open, so no
-- conditions means no change and no query is needed).
DROP FUNCTION IF EXISTS payments_private.review_delta(bigint, jsonb);
CREATE OR REPLACE FUNCTION payments_private.review_delta(order_id bigint, conditions jsonb,
                                                         any_open boolean DEFAULT true)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
BEGIN
    IF NOT review_delta.any_open AND review_delta.conditions = '[]'::jsonb THEN
        -- nothing asked for and nothing open to close (orders.needs_review)
        RETURN '{"open": [], "close": []}'::jsonb;
    END IF;
    RETURN (
        WITH c AS (
            SELECT x.reason, x.subject FROM jsonb_to_recordset(review_delta.conditions) AS x (reason text, subject text)
        ), r AS (
            SELECT v.reason, v.subject, v.resolved_at, v.resolution FROM payments.order_reviews AS v
             WHERE v.order_id = review_delta.order_id
        )
        SELECT jsonb_build_object(
            'open', coalesce((SELECT jsonb_agg(jsonb_build_object('reason', c.reason, 'subject', c.subject)
                                               ORDER BY c.reason, c.subject)
                                FROM c
                               WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.reason = c.reason AND r.subject = c.subject
                                                   AND (r.resolved_at IS NULL OR r.resolution <> 'auto'))),
                             '[]'::jsonb),
            'close', coalesce((SELECT jsonb_agg(jsonb_build_object('reason', r.reason, 'subject', r.subject)
                                                ORDER BY r.reason, r.subject)
                                 FROM r
                                WHERE r.resolved_at IS NULL
                                  AND r.reason IN ('fraud_challenge', 'partial_refund', 'partial_chargeback',
                                                   'duplicate_payment')
                                  AND NOT EXISTS (SELECT 1 FROM c WHERE c.reason = r.reason AND c.subject = r.subject)),
                              '[]'::jsonb)));
END
$$;

COMMENT ON FUNCTION payments_private.review_delta(bigint, jsonb, boolean) IS
    'Reviews that conditions would open, and tracking reviews they would close: {open, close}';

-- payments_private.apply_review_delta(order_id, delta, log_id)
-- Opens / closes the rows of a delta and keeps orders.needs_review true
-- exactly while a review is open. Returns the delta.
CREATE OR REPLACE FUNCTION payments_private.apply_review_delta(order_id bigint, delta jsonb, log_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
    IF jsonb_array_length(apply_review_delta.delta -> 'open') > 0 THEN
        INSERT INTO payments.order_reviews AS v (order_id, reason, subject, opened_by)
        SELECT apply_review_delta.order_id, x.reason, x.subject, apply_review_delta.log_id
          FROM jsonb_to_recordset(apply_review_delta.delta -> 'open') AS x (reason text, subject text)
        ON CONFLICT (order_id, reason, subject) DO UPDATE
           SET opened_at = payments_private.clock(), opened_by = excluded.opened_by, resolved_at = NULL, resolution = NULL,
               resolved_by = NULL, note = NULL
         WHERE v.resolution = 'auto';
    END IF;
    IF jsonb_array_length(apply_review_delta.delta -> 'close') > 0 THEN
        UPDATE payments.order_reviews AS v
           SET resolved_at = payments_private.clock(), resolution = 'auto', resolved_by = 'auto',
               note = 'closed by log ' || apply_review_delta.log_id
          FROM jsonb_to_recordset(apply_review_delta.delta -> 'close') AS x (reason text, subject text)
         WHERE v.order_id = apply_review_delta.order_id AND v.reason = x.reason AND v.subject = x.subject
           AND v.resolved_at IS NULL;
    END IF;
    IF jsonb_array_length(apply_review_delta.delta -> 'open') + jsonb_array_length(apply_review_delta.delta -> 'close') > 0 THEN
        PERFORM payments_private.sync_needs_review(apply_review_delta.order_id);
    END IF;
    RETURN apply_review_delta.delta;
END
$$;

COMMENT ON FUNCTION payments_private.apply_review_delta(bigint, jsonb, bigint) IS
    'Opens and auto-closes the reviews of a delta; keeps orders.needs_review in step';

-- payments_private.sync_needs_review(order_id)
CREATE OR REPLACE FUNCTION payments_private.sync_needs_review(order_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
        UPDATE payments.orders AS o
           SET needs_review = x.open, updated_at = payments_private.clock()
          FROM (SELECT EXISTS (SELECT 1 FROM payments.order_reviews AS v
                                WHERE v.order_id = sync_needs_review.order_id AND v.resolved_at IS NULL) AS open) AS x
         WHERE o.id = sync_needs_review.order_id AND o.needs_review IS DISTINCT FROM x.open;
END
$$;

COMMENT ON FUNCTION payments_private.sync_needs_review(bigint) IS
    'orders.needs_review := whether the order has an open review';

-- payments_private.shortfall_review(order_id, short, log_id)
-- paid_after_release, opened by the pay effect when it found no free capacity
-- / stock and closed by it once it could fulfil.
CREATE OR REPLACE FUNCTION payments_private.shortfall_review(order_id bigint, short boolean, log_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
    RETURN (
        SELECT payments_private.apply_review_delta(shortfall_review.order_id,
            CASE WHEN shortfall_review.short
                 THEN jsonb_build_object('open', jsonb_build_array(jsonb_build_object(
                          'reason', 'paid_after_release', 'subject', '')), 'close', '[]'::jsonb)
                 ELSE jsonb_build_object('open', '[]'::jsonb, 'close', coalesce((
                          SELECT jsonb_agg(jsonb_build_object('reason', v.reason, 'subject', v.subject))
                            FROM payments.order_reviews AS v
                           WHERE v.order_id = shortfall_review.order_id AND v.reason = 'paid_after_release'
                             AND v.resolved_at IS NULL), '[]'::jsonb)) END,
            shortfall_review.log_id));
END
$$;

COMMENT ON FUNCTION payments_private.shortfall_review(bigint, boolean, bigint) IS
    'Opens paid_after_release on a shortfall, closes it once fulfilled';

-- payments.resolve_review(order_number, reason, action, note, subject)
-- A person's decision on one open review of an order (the oldest open one
-- of that reason, or the one about `subject` as open_reviews lists it; a
-- transaction id also names its `transaction_id:status` disagreements), logged with
-- session_user (source manual, event_type review_resolved):
--   dismiss  close it, change nothing else
--   accept   paid_after_release: raise capacity / stock by the shortfall and
--            fulfil; amount_mismatch: take the money received as enough for
--            this order (it becomes paid and is fulfilled)
--   refund   the money went back through the Refund API: a refund request of
--            this order succeeded since the review opened (payments refund /
--            payments resolve --refund call Midtrans, then this); closes the
--            review, re-derives (a full refund already released the goods)
--   refunded_in_dashboard
--            the money went back in the Midtrans dashboard, outside the API:
--            the order is refunded and everything it holds is released
--            (what `refund` did before migration 0007)
-- PM001 unknown order, PM009 bad action, PM012 no such open review / action
-- not possible for it (also `refund` without a recorded Refund API refund).
DROP FUNCTION IF EXISTS payments.resolve_review(text, text, text, text);
CREATE OR REPLACE FUNCTION payments.resolve_review(
    order_number text,
    reason text,
    action text,
    note text DEFAULT NULL,
    subject text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    v payments.order_reviews;
    v_raised jsonb;
    v_effect jsonb;
    v_standing numeric;
    v_log_id bigint := payments_private.next_log_id();
    v_refund bigint;
BEGIN
    IF resolve_review.action IS NULL
       OR resolve_review.action NOT IN ('accept', 'refund', 'refunded_in_dashboard', 'dismiss') THEN
        RAISE EXCEPTION 'action must be accept, refund, refunded_in_dashboard or dismiss, got %',
            quote_nullable(resolve_review.action) USING ERRCODE = 'PM009';
    END IF;
    o := payments_private.lock_order(resolve_review.order_number);
    SELECT * INTO v FROM payments.order_reviews AS x
     WHERE x.order_id = o.id AND x.reason = resolve_review.reason AND x.resolved_at IS NULL
       AND (resolve_review.subject IS NULL OR x.subject = resolve_review.subject
            -- a transaction id names its gateway_disagreement reviews too
            OR left(x.subject, length(resolve_review.subject) + 1) = resolve_review.subject || ':')
     ORDER BY x.id LIMIT 1
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % has no open % review', o.order_number, quote_nullable(resolve_review.reason)
            USING ERRCODE = 'PM012';
    END IF;

    IF resolve_review.action = 'dismiss' AND v.reason = 'paid_after_release' AND o.status = 'paid' THEN
        RAISE EXCEPTION 'order % is paid and short of capacity / stock: accept (raise it) or refund, not dismiss',
            o.order_number USING ERRCODE = 'PM012';
    END IF;
    IF resolve_review.action = 'accept' THEN
        IF v.reason = 'paid_after_release' THEN
            v_raised := payments_private.raise_to_fit(o);
            UPDATE payments.orders SET shortfall_at = NULL, updated_at = payments_private.clock() WHERE id = o.id
            RETURNING * INTO o;
        ELSIF v.reason = 'amount_mismatch' AND o.status <> 'paid' THEN
            SELECT coalesce(sum(payments_private.cover(t.stage, t.gross_amount)), 0) INTO v_standing
              FROM payments.gateway_transactions AS t WHERE t.order_id = o.id;
            IF v_standing <= 0 THEN
                RAISE EXCEPTION 'order % holds no money to accept', o.order_number USING ERRCODE = 'PM012';
            END IF;
            UPDATE payments.orders SET accepted_amount = v_standing, updated_at = payments_private.clock() WHERE id = o.id;
        ELSE
            RAISE EXCEPTION 'accept fulfils a paid_after_release order or takes the money of an unpaid '
                            'amount_mismatch order as enough; this % review of a % order cannot be accepted: '
                            'use refund or dismiss', v.reason, o.status USING ERRCODE = 'PM012';
        END IF;
    ELSIF resolve_review.action = 'refund' THEN
        -- the money moves at Midtrans first: a refund made through the Refund API
        SELECT r.id INTO v_refund FROM payments.refund_requests AS r
         WHERE r.order_id = o.id AND r.state = 'succeeded' AND r.finished_at >= v.opened_at
         ORDER BY r.id DESC LIMIT 1;
        IF v_refund IS NULL THEN
            RAISE EXCEPTION 'order % has no refund made through the Refund API since this % review opened: '
                            'refund it first (payments resolve % % --refund), or record a refund made in the '
                            'Midtrans dashboard with action refunded_in_dashboard',
                o.order_number, v.reason, o.order_number, v.reason USING ERRCODE = 'PM012';
        END IF;
    ELSIF resolve_review.action = 'refunded_in_dashboard' THEN
        UPDATE payments.orders SET refunded_manually_at = payments_private.clock(), updated_at = payments_private.clock() WHERE id = o.id;
    END IF;

    UPDATE payments.order_reviews
       SET resolved_at = payments_private.clock(), resolution = resolve_review.action, resolved_by = session_user,
           note = left(resolve_review.note, 2000)
     WHERE id = v.id;
    PERFORM payments_private.sync_needs_review(o.id);
    IF resolve_review.action <> 'dismiss' THEN
        v_effect := payments_private.rederive(o.id, v_log_id);
        IF v_effect ->> 'shortfall' = 'true' AND v.reason = 'paid_after_release' THEN
            -- cannot happen after raising capacity, but never report success falsely
            RAISE EXCEPTION 'order % could not be fulfilled: %', o.order_number, v_effect::text
                USING ERRCODE = 'PM012';
        END IF;
    END IF;
    SELECT * INTO o FROM payments.orders AS x WHERE x.id = o.id;
    PERFORM payments_private.write_log(v_log_id, 'manual', 'review_resolved', resolve_review.action,
        o.order_number, NULL, NULL, NULL, NULL, NULL, NULL,
        jsonb_build_object('reason', v.reason, 'subject', v.subject, 'note', left(resolve_review.note, 2000),
                           'actor', session_user, 'status', o.status, 'effect', v_effect,
                           'capacity_raised', v_raised, 'refund_request', v_refund),
        NULL, NULL);
    RETURN jsonb_build_object('order_number', o.order_number, 'reason', v.reason, 'action', resolve_review.action,
                              'status', o.status, 'effect', v_effect, 'capacity_raised', v_raised,
                              'needs_review', o.needs_review, 'actor', session_user,
                              'refund_request', v_refund);
END
$$;

COMMENT ON FUNCTION payments.resolve_review(text, text, text, text, text) IS
    'A person''s decision on one open review (dismiss | accept | refund | refunded_in_dashboard), logged with session_user; PM001, PM009, PM012';

-- payments.open_reviews(order_number)
-- The open reviews of one order, oldest first (every reason, not only one).
CREATE OR REPLACE FUNCTION payments.open_reviews(order_number text)
RETURNS TABLE (reason text, subject text, opened_at timestamptz, opened_by bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
    SELECT v.reason, v.subject, v.opened_at, v.opened_by
      FROM payments.order_reviews AS v
      JOIN payments.orders AS o ON o.id = v.order_id
     WHERE o.order_number = open_reviews.order_number AND v.resolved_at IS NULL
     ORDER BY v.opened_at, v.id
$$;

COMMENT ON FUNCTION payments.open_reviews(text) IS 'Open reviews of one order, oldest first';
