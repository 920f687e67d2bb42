-- The money core: a per-transaction ledger the order's money is derived from,
-- reviews as rows (several per order, each kept until resolved), the repair
-- predicate as one generated column, a private schema for internal functions,
-- run bookkeeping a caller cannot fake, settings for the bounds, and the roles
-- for operators and bearer codes. See docs/ARCHITECTURE.md.
-- depends: 0003.trust-boundary

CREATE SCHEMA payments_private;
COMMENT ON SCHEMA payments_private IS
    'Internal functions of the payments schema: not granted to any role, may change without notice';
REVOKE ALL ON SCHEMA payments_private FROM PUBLIC;

-- Settings an operator may change (bounds, retention): one row each.
CREATE TABLE payments.settings (
    name         text PRIMARY KEY,
    value        text NOT NULL,
    description  text NOT NULL
);
ALTER TABLE payments.settings ADD CONSTRAINT settings_value_check CHECK (CASE name
    WHEN 'max_hold' THEN value::interval BETWEEN interval '1 minute' AND interval '7 days'
    WHEN 'max_payload_bytes' THEN value::integer BETWEEN 1024 AND 10485760
    WHEN 'retention_noise' THEN value::interval >= interval '1 day'
    WHEN 'retention_decisions' THEN value::interval >= interval '90 days'
    ELSE false END);
INSERT INTO payments.settings (name, value, description) VALUES
    ('max_hold', '24 hours',
     'longest time an order may hold capacity or stock (expires_at - now() at creation); PM014 beyond'),
    ('max_payload_bytes', '65536',
     'largest payload / detail stored with an event; PM015 beyond'),
    ('retention_noise', '30 days',
     'how long rejections, no-op decisions and run rows are kept in webhook_logs'),
    ('retention_decisions', '400 days',
     'how long decisions that changed an order, repairs and operator actions are kept');

-- The ledger: one row per (order, Midtrans transaction). `stage` orders the
-- statuses of one transaction (payments.transaction_stage); an event behind
-- its transaction's stage never rewrites the row.
ALTER TABLE payments.gateway_transactions
    ADD COLUMN stage smallint,
    ADD COLUMN gross_amount numeric(14,2),
    ADD COLUMN refund_amount numeric(14,2) NOT NULL DEFAULT 0,
    ADD COLUMN midtrans_at timestamptz,
    ADD COLUMN seen_paid boolean NOT NULL DEFAULT false;
UPDATE payments.gateway_transactions AS t
   SET stage = CASE t.transaction_status
                   WHEN 'pending' THEN 10 WHEN 'authorize' THEN 11
                   WHEN 'capture' THEN CASE coalesce(t.fraud_status, 'accept')
                                           WHEN 'challenge' THEN 20 WHEN 'deny' THEN 30 ELSE 21 END
                   WHEN 'settlement' THEN CASE WHEN t.fraud_status = 'challenge' THEN 20
                                              WHEN t.fraud_status = 'deny' THEN 30 ELSE 22 END
                   WHEN 'deny' THEN 30 WHEN 'cancel' THEN 31 WHEN 'expire' THEN 32 WHEN 'failure' THEN 33
                   WHEN 'partial_refund' THEN 40 WHEN 'refund' THEN 41
                   WHEN 'partial_chargeback' THEN 42 WHEN 'chargeback' THEN 43 ELSE 10 END,
       gross_amount = o.gross_amount,
       seen_paid = t.transaction_status IN ('capture', 'settlement', 'partial_refund', 'refund',
                                            'partial_chargeback', 'chargeback')
                   AND coalesce(t.fraud_status, 'accept') = 'accept'
  FROM payments.orders AS o
 WHERE o.id = t.order_id;
UPDATE payments.gateway_transactions SET refund_amount = gross_amount WHERE stage = 41;
ALTER TABLE payments.gateway_transactions
    ALTER COLUMN stage SET NOT NULL,
    ALTER COLUMN gross_amount SET NOT NULL,
    DROP COLUMN rank,
    ADD CONSTRAINT gateway_transactions_stage_check
        CHECK (stage IN (10, 11, 20, 21, 22, 30, 31, 32, 33, 40, 41, 42, 43)),
    ADD CONSTRAINT gateway_transactions_amounts_check
        CHECK (gross_amount > 0 AND refund_amount >= 0);
COMMENT ON TABLE payments.gateway_transactions IS
    'The money ledger: what Midtrans said about each transaction of an order (stage, amounts, times)';

-- Reviews: a person decides. Several may be open on one order; each is
-- closed by resolve_review (per reason), or automatically only by what opened
-- it (a challenge decided at Midtrans, a shortfall later filled).
CREATE TABLE payments.order_reviews (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint      NOT NULL REFERENCES payments.orders (id),
    reason       text        NOT NULL CHECK (reason IN (
                     'fraud_challenge', 'amount_mismatch', 'duplicate_payment', 'payment_reversed',
                     'partial_refund', 'chargeback', 'partial_chargeback', 'paid_after_release',
                     'gateway_disagreement',
                     -- kept for reviews opened before the ledger (migration 0004)
                     'refund_other_transaction', 'paid_after_refund')),
    -- the transaction it is about ('' = the order as a whole)
    subject      text        NOT NULL DEFAULT '',
    opened_at    timestamptz NOT NULL DEFAULT now(),
    -- the webhook_logs row of the event that opened it (logs are pruned: no FK)
    opened_by    bigint,
    detail       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    resolved_at  timestamptz,
    resolution   text CHECK (resolution IN ('accept', 'refund', 'dismiss', 'auto')),
    resolved_by  text,
    note         text,
    CONSTRAINT order_reviews_resolved_check
        CHECK ((resolved_at IS NULL) = (resolution IS NULL) AND (resolved_at IS NULL) = (resolved_by IS NULL)),
    UNIQUE (order_id, reason, subject)
);
CREATE INDEX order_reviews_open_idx ON payments.order_reviews (order_id) WHERE resolved_at IS NULL;
CREATE INDEX order_reviews_opened_idx ON payments.order_reviews (opened_at) WHERE resolved_at IS NULL;
INSERT INTO payments.order_reviews (order_id, reason, opened_at, detail)
SELECT o.id, o.review_reason, o.updated_at, jsonb_build_object('migrated', true)
  FROM payments.orders AS o
 WHERE o.needs_review;

-- Orders keep the status they have: where the ledger alone would derive
-- another one (statuses decided before the ledger, by hand or by rules this
-- release replaces), the facts that keep it are recorded.
ALTER TABLE payments.orders
    ADD COLUMN expired_locally_at timestamptz,
    ADD COLUMN refunded_manually_at timestamptz,
    ADD COLUMN accepted_amount numeric(14,2) CHECK (accepted_amount > 0);
CREATE TEMP TABLE legacy ON COMMIT DROP AS
SELECT o.id, o.status, o.gross_amount, o.updated_at,
       coalesce(sum(CASE WHEN t.stage IN (21, 22, 40, 42, 43) THEN t.gross_amount END), 0) AS standing,
       coalesce(bool_or(t.stage IN (31, 32, 41)), false) AS closed,
       coalesce(bool_or(t.stage = 41), false) AS refunded
  FROM payments.orders AS o
  LEFT JOIN payments.gateway_transactions AS t ON t.order_id = o.id
 GROUP BY o.id;
-- paid on less than the price (an accepted amount mismatch): that amount was accepted
UPDATE payments.orders AS o SET accepted_amount = l.standing
  FROM legacy AS l WHERE l.id = o.id AND o.status = 'paid' AND l.standing > 0 AND l.standing < l.gross_amount;
-- paid with nothing in the ledger (a manual call without a transaction id)
INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount,
                                           seen_paid)
SELECT l.id, 'pre-ledger-payment', 'settlement', 22, l.gross_amount, true
  FROM legacy AS l WHERE l.status = 'paid' AND l.standing = 0;
-- refunded by hand, or kept refunded although another payment stands
UPDATE payments.orders AS o SET refunded_manually_at = l.updated_at
  FROM legacy AS l WHERE l.id = o.id AND o.status = 'refunded' AND (NOT l.refunded OR l.standing >= l.gross_amount);
-- released without an expire / cancel / refund (a deny released at once before): closed locally
UPDATE payments.orders AS o SET expired_locally_at = l.updated_at, status = 'expired'
  FROM legacy AS l WHERE l.id = o.id AND o.status IN ('failed', 'expired') AND NOT l.closed
   AND l.standing < l.gross_amount;
UPDATE payments.orders AS o SET status = 'expired'
  FROM legacy AS l
 WHERE l.id = o.id AND o.status = 'failed' AND l.closed AND NOT l.refunded
   AND EXISTS (SELECT 1 FROM payments.gateway_transactions AS t WHERE t.order_id = o.id AND t.stage = 32)
   AND NOT EXISTS (SELECT 1 FROM payments.gateway_transactions AS t WHERE t.order_id = o.id AND t.stage = 31);

-- Orders: the status is derived from the ledger; these columns go or change.
DROP INDEX payments.orders_ticket_unfulfilled_idx;
DROP INDEX payments.orders_ticket_unreleased_idx;
DROP INDEX payments.orders_product_unfulfilled_idx;
DROP INDEX payments.orders_product_unreleased_idx;
DROP INDEX payments.orders_paid_unfulfilled_since_idx;
DROP INDEX payments.orders_review_idx;
ALTER TABLE payments.orders
    DROP CONSTRAINT orders_review_reason_check,
    DROP COLUMN review_reason,
    DROP COLUMN gateway_status,
    DROP COLUMN gateway_transaction_id,
    DROP COLUMN fraud_status,
    DROP COLUMN gateway_event_at,
    DROP COLUMN paid_amount,
    -- the pay effect found no free capacity / stock (paid_after_release)
    ADD COLUMN shortfall_at timestamptz;
COMMENT ON COLUMN payments.orders.needs_review IS 'true while the order has an open review (order_reviews)';

-- The repair predicate, defined once: which side-effect the order still
-- needs for its status. The partial index, find_mismatches, reconcile_local,
-- alerts, the audit views and check_invariants all read the `repair` column
-- this function computes. It is PL/pgSQL on purpose: a generated column's
-- expression is deserialised on every INSERT / UPDATE statement, and a call
-- is a few bytes where the CASE is kilobytes (13 us per UPDATE of an order
-- measured; the function is compiled once per session). Changing the
-- predicate is a migration: CREATE OR REPLACE it and recompute the column.
CREATE FUNCTION payments_private.repair_for(
    kind text, status text, shortfall_at timestamptz,
    tickets_issued_at timestamptz, capacity_released_at timestamptz,
    pickup_code text, stock_confirmed_at timestamptz, stock_released_at timestamptz
)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    RETURN CASE repair_for.kind
    WHEN 'ticket' THEN
        CASE WHEN repair_for.status = 'paid' AND repair_for.shortfall_at IS NULL
                  AND (repair_for.tickets_issued_at IS NULL OR repair_for.capacity_released_at IS NOT NULL)
                  THEN 'fix_ticket_issued'
             WHEN repair_for.status IN ('failed', 'expired', 'refunded') AND repair_for.capacity_released_at IS NULL
                  THEN 'release_capacity'
             WHEN repair_for.status = 'pending' AND repair_for.tickets_issued_at IS NOT NULL THEN 'hold_capacity'
        END
    WHEN 'product' THEN
        CASE WHEN repair_for.status = 'paid' AND repair_for.shortfall_at IS NULL
                  AND (repair_for.pickup_code IS NULL OR repair_for.stock_confirmed_at IS NULL
                       OR repair_for.stock_released_at IS NOT NULL)
                  THEN 'fix_pickup_code'
             WHEN repair_for.status IN ('failed', 'expired', 'refunded') AND repair_for.stock_released_at IS NULL
                  THEN 'release_stock'
             WHEN repair_for.status = 'pending'
                  AND (repair_for.stock_confirmed_at IS NOT NULL OR repair_for.pickup_code IS NOT NULL)
                  THEN 'hold_stock'
        END
    END;
END
$$;
COMMENT ON FUNCTION payments_private.repair_for(text, text, timestamptz, timestamptz, timestamptz, text,
                                                timestamptz, timestamptz) IS
    'The repair predicate behind orders.repair: the side-effect an order still needs for its status';
ALTER TABLE payments.orders ADD COLUMN repair text GENERATED ALWAYS AS (
    payments_private.repair_for(kind, status, shortfall_at, tickets_issued_at, capacity_released_at,
                                pickup_code, stock_confirmed_at, stock_released_at)) STORED;
CREATE INDEX orders_repair_idx ON payments.orders (id) WHERE repair IS NOT NULL;
CREATE INDEX orders_repair_since_idx ON payments.orders (paid_at)
    WHERE repair IN ('fix_ticket_issued', 'fix_pickup_code');
CREATE INDEX orders_shortfall_idx ON payments.orders (paid_at) WHERE shortfall_at IS NOT NULL;
CREATE INDEX orders_review_idx ON payments.orders (updated_at) WHERE needs_review;

-- Runs: the counters are written by the functions that do the work, so a
-- finished run proves what it did (a caller cannot fake a finished sync).
ALTER TABLE payments.runs
    ADD COLUMN due integer,
    -- the orders a sync run must check, and those answered (or failed) so far
    ADD COLUMN due_orders text[],
    ADD COLUMN answered text[] NOT NULL DEFAULT '{}',
    -- the answered orders whose status changed (each counted once in changed)
    ADD COLUMN changed_orders text[] NOT NULL DEFAULT '{}',
    ADD COLUMN checked integer NOT NULL DEFAULT 0,
    ADD COLUMN changed integer NOT NULL DEFAULT 0,
    ADD COLUMN not_found integer NOT NULL DEFAULT 0,
    ADD COLUMN failed integer NOT NULL DEFAULT 0,
    ADD COLUMN local_done boolean NOT NULL DEFAULT false,
    ADD COLUMN ok boolean;
UPDATE payments.runs SET ok = (error IS NULL) WHERE finished_at IS NOT NULL;
ALTER TABLE payments.runs DROP CONSTRAINT runs_kind_check,
    ADD CONSTRAINT runs_kind_check CHECK (kind IN ('sync', 'reconcile', 'prune'));

UPDATE payments.alert_thresholds SET description = 'open reviews (every open reason of every order)'
 WHERE name = 'open_reviews';

-- Retention reads by time and class.
CREATE INDEX webhook_logs_run_idx ON payments.webhook_logs (run_id) WHERE run_id IS NOT NULL;

-- Roles: people who act on reviews and repairs, and the only role that may
-- read bearer codes (ticket codes, pickup codes).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'payments_operator') THEN
        CREATE ROLE payments_operator NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'payments_bearer_codes') THEN
        CREATE ROLE payments_bearer_codes NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA payments TO payments_operator, payments_bearer_codes;
