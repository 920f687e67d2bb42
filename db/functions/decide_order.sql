-- The order-level decision, pure functions tested as tables
-- (db/tests/decide_order/).
--
-- payments_private.order_status_for(covered, window_closed, closed_as)
-- An order's status follows from its money and its payment window only:
--   covered (standing payments >= the price)    -> paid      (goods out)
--   not covered, payment window open            -> pending   (goods held)
--   not covered, window closed                  -> closed_as (goods released):
--       refunded  a refund, or a refund recorded by hand
--       expired   an expire at Midtrans, or the window closed locally
--       failed    a cancel
-- A denied or failed attempt does not close the window: Snap lets the
-- customer pay again while it is open.
CREATE OR REPLACE FUNCTION payments_private.order_status_for(
    covered boolean, window_closed boolean, closed_as text
)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE WHEN order_status_for.covered THEN 'paid'
                WHEN NOT order_status_for.window_closed THEN 'pending'
                ELSE order_status_for.closed_as END
$$;

COMMENT ON FUNCTION payments_private.order_status_for(boolean, boolean, text) IS
    'paid when covered, pending while the payment window is open, else how it closed';

-- payments_private.decision_label(previous_status, new_status, ledger_outcome,
--     reviews_opened, attempt_failed)
-- The word logged as a gateway event's outcome.
CREATE OR REPLACE FUNCTION payments_private.decision_label(
    previous_status text, new_status text, ledger_outcome text, reviews_opened boolean,
    attempt_failed boolean
)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN decision_label.ledger_outcome = 'disagreement' THEN 'gateway_disagreement'
        WHEN decision_label.previous_status = decision_label.new_status THEN
            CASE WHEN decision_label.reviews_opened THEN 'flagged'
                 WHEN decision_label.ledger_outcome = 'stale' THEN 'stale_ignored'
                 WHEN decision_label.attempt_failed THEN 'attempt_failed'
                 ELSE 'noop' END
        WHEN decision_label.new_status = 'paid' THEN
            CASE decision_label.previous_status WHEN 'pending' THEN 'paid' ELSE 'late_payment' END
        WHEN decision_label.new_status = 'refunded' THEN 'refunded'
        WHEN decision_label.previous_status = 'paid' THEN 'reversed'
        ELSE 'released'
    END
$$;

COMMENT ON FUNCTION payments_private.decision_label(text, text, text, boolean, boolean) IS
    'The logged decision of a gateway event (paid, late_payment, released, refunded, reversed, ...)';

-- payments_private.review_conditions(order_amount, ledger)
-- The reviews a ledger calls for, as [{reason, subject}], from facts that
-- only grow, so any delivery order of the same events asks for the same ones:
--   fraud_challenge     a transaction waits at capture/challenge
--   partial_refund      a transaction is partly refunded (what goes back is for people)
--   partial_chargeback  a transaction is partly charged back
--   chargeback          a transaction is charged back
--   amount_mismatch     a transaction was paid with an amount other than the price
--   payment_reversed    a paid transaction was denied / failed afterwards
--   duplicate_payment   more than one transaction of the order was paid; the
--                       subject lists them (sorted, comma-separated), so a
--                       further payment after a person's decision asks again
-- `ledger` is a jsonb array of {transaction_id, stage, gross_amount, seen_paid}.
CREATE OR REPLACE FUNCTION payments_private.review_conditions(order_amount numeric, ledger jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
#variable_conflict use_column
BEGIN
    RETURN (
        WITH l AS (
            SELECT x.transaction_id, x.stage, x.gross_amount, x.seen_paid
              FROM jsonb_to_recordset(review_conditions.ledger)
                   AS x (transaction_id text, stage smallint, gross_amount numeric, seen_paid boolean)
        ), c AS (
            SELECT CASE l.stage WHEN 20 THEN 'fraud_challenge' WHEN 40 THEN 'partial_refund'
                                WHEN 42 THEN 'partial_chargeback' WHEN 43 THEN 'chargeback' END AS reason,
                   l.transaction_id AS subject
              FROM l WHERE l.stage IN (20, 40, 42, 43)
            UNION ALL
            SELECT 'amount_mismatch', l.transaction_id
              FROM l WHERE l.seen_paid AND l.gross_amount <> review_conditions.order_amount
            UNION ALL
            SELECT 'payment_reversed', l.transaction_id FROM l WHERE l.seen_paid AND l.stage IN (30, 33)
            UNION ALL
            SELECT 'duplicate_payment', string_agg(l.transaction_id, ',' ORDER BY l.transaction_id)
              FROM l WHERE l.seen_paid HAVING count(*) > 1
        )
        SELECT coalesce(jsonb_agg(jsonb_build_object('reason', c.reason, 'subject', c.subject)
                                  ORDER BY c.reason, c.subject), '[]'::jsonb)
          FROM c);
END
$$;

COMMENT ON FUNCTION payments_private.review_conditions(numeric, jsonb) IS
    'The reviews a ledger calls for ([{reason, subject}]), from facts that only grow';
