-- Schema `payments`: the single source of truth for orders, capacity, stock,
-- tickets, the event log and reconciliation runs. See docs/ARCHITECTURE.md.
-- depends:

CREATE SCHEMA payments;

COMMENT ON SCHEMA payments IS
    'Payment finality for Midtrans shops: orders, capacity, stock, tickets, event log';

-- Ticket capacity per time slot. The CHECK makes overselling impossible: a
-- reservation or sale that would exceed capacity aborts its transaction.
CREATE TABLE payments.ticket_slots (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text        NOT NULL UNIQUE CHECK (code <> ''),
    starts_at   timestamptz,
    capacity    integer     NOT NULL,
    reserved    integer     NOT NULL DEFAULT 0,
    sold        integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ticket_slots_counters_check
        CHECK (capacity >= 0 AND reserved >= 0 AND sold >= 0 AND reserved + sold <= capacity)
);

-- Merchandise stock per variant. `stock` is the number of units for sale in
-- total (like a slot's capacity); `reserved_stock` is held by pending orders and
-- `sold` by paid ones, so what is left is stock - reserved_stock - sold.
CREATE TABLE payments.product_variants (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku             text        NOT NULL UNIQUE CHECK (sku <> ''),
    name            text,
    stock           integer     NOT NULL,
    reserved_stock  integer     NOT NULL DEFAULT 0,
    sold            integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT product_variants_counters_check
        CHECK (stock >= 0 AND reserved_stock >= 0 AND sold >= 0
               AND reserved_stock + sold <= stock)
);

-- One table for both kinds, keyed by the Midtrans order_id (`order_number`), so
-- one state machine serves tickets and merchandise.
CREATE TABLE payments.orders (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_number            text          NOT NULL UNIQUE
                            CHECK (order_number ~ '^[A-Za-z0-9._~-]{1,50}$'),
    kind                    text          NOT NULL CHECK (kind IN ('ticket', 'product')),
    status                  text          NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'paid', 'failed', 'expired', 'refunded')),
    gross_amount            numeric(14,2) NOT NULL CHECK (gross_amount > 0),
    currency                text          NOT NULL DEFAULT 'IDR' CHECK (currency ~ '^[A-Z]{3}$'),
    expires_at              timestamptz   NOT NULL,
    -- the last gateway event that was accepted (not ignored as stale)
    gateway_status          text,
    gateway_transaction_id  text,
    fraud_status            text,
    gateway_event_at        timestamptz,
    -- when the Status API last answered for this order (sync / reconcile)
    gateway_checked_at      timestamptz,
    paid_amount             numeric(14,2),
    paid_at                 timestamptz,
    needs_review            boolean       NOT NULL DEFAULT false,
    review_reason           text,
    -- idempotency markers (tickets)
    tickets_issued_at       timestamptz,
    capacity_released_at    timestamptz,
    -- idempotency markers (products)
    pickup_code             text UNIQUE,
    stock_confirmed_at      timestamptz,
    stock_released_at       timestamptz,
    created_at              timestamptz   NOT NULL DEFAULT now(),
    updated_at              timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT orders_review_reason_check CHECK (needs_review = (review_reason IS NOT NULL)),
    CONSTRAINT orders_ticket_markers_check CHECK (
        kind = 'ticket' OR (tickets_issued_at IS NULL AND capacity_released_at IS NULL)),
    CONSTRAINT orders_product_markers_check CHECK (
        kind = 'product' OR (pickup_code IS NULL AND stock_confirmed_at IS NULL
                             AND stock_released_at IS NULL))
);

CREATE TABLE payments.ticket_order_items (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id            bigint        NOT NULL REFERENCES payments.orders (id),
    slot_id             bigint        NOT NULL REFERENCES payments.ticket_slots (id),
    quantity            integer       NOT NULL CHECK (quantity > 0),
    unit_price          numeric(14,2) CHECK (unit_price >= 0),
    -- how much of `quantity` has been moved from reserved to sold
    finalized_quantity  integer       NOT NULL DEFAULT 0,
    CONSTRAINT ticket_order_items_finalized_check
        CHECK (finalized_quantity >= 0 AND finalized_quantity <= quantity),
    UNIQUE (order_id, slot_id)
);
CREATE INDEX ticket_order_items_slot_idx ON payments.ticket_order_items (slot_id);

CREATE TABLE payments.product_order_items (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id            bigint        NOT NULL REFERENCES payments.orders (id),
    variant_id          bigint        NOT NULL REFERENCES payments.product_variants (id),
    quantity            integer       NOT NULL CHECK (quantity > 0),
    unit_price          numeric(14,2) CHECK (unit_price >= 0),
    finalized_quantity  integer       NOT NULL DEFAULT 0,
    CONSTRAINT product_order_items_finalized_check
        CHECK (finalized_quantity >= 0 AND finalized_quantity <= quantity),
    UNIQUE (order_id, variant_id)
);
CREATE INDEX product_order_items_variant_idx ON payments.product_order_items (variant_id);

-- UNIQUE (order_item_id, seq) makes a duplicate ticket impossible by construction.
CREATE TABLE payments.tickets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_item_id   bigint      NOT NULL REFERENCES payments.ticket_order_items (id),
    seq             integer     NOT NULL CHECK (seq > 0),
    code            text        NOT NULL UNIQUE,
    status          text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'void')),
    issued_at       timestamptz NOT NULL DEFAULT now(),
    voided_at       timestamptz,
    CONSTRAINT tickets_void_check CHECK ((status = 'void') = (voided_at IS NOT NULL)),
    UNIQUE (order_item_id, seq)
);

-- What Midtrans last said about each transaction of an order (an order can be
-- paid again with a new transaction_id after an expiry). Staleness is judged
-- per transaction: an event ranked below what its own transaction already
-- reached is stale, whatever other transactions of the order did.
CREATE TABLE payments.gateway_transactions (
    order_id            bigint      NOT NULL REFERENCES payments.orders (id),
    transaction_id      text        NOT NULL,
    transaction_status  text        NOT NULL,
    fraud_status        text,
    rank                integer     NOT NULL,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, transaction_id)
);

CREATE TABLE payments.runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('sync', 'reconcile')),
    source       text        NOT NULL CHECK (source IN ('sync', 'reconcile', 'cron', 'manual')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    totals       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    error        text
);
CREATE INDEX runs_kind_started_idx ON payments.runs (kind, started_at DESC);

-- Append-only: every gateway event, rejection, repair and operator action.
CREATE TABLE payments.webhook_logs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at          timestamptz   NOT NULL DEFAULT clock_timestamp(),
    source              text          NOT NULL
                        CHECK (source IN ('webhook', 'sync', 'reconcile', 'cron', 'manual')),
    event_type          text          NOT NULL,
    order_number        text,
    transaction_id      text,
    transaction_status  text,
    fraud_status        text,
    status_code         text,
    gross_amount        numeric(14,2),
    signature_valid     boolean,
    outcome             text          NOT NULL,
    detail              jsonb         NOT NULL DEFAULT '{}'::jsonb,
    payload             jsonb,
    run_id              bigint REFERENCES payments.runs (id)
);
CREATE INDEX webhook_logs_order_idx ON payments.webhook_logs (order_number, id);
CREATE INDEX webhook_logs_created_idx ON payments.webhook_logs (created_at);
CREATE INDEX webhook_logs_signature_invalid_idx ON payments.webhook_logs (created_at)
    WHERE event_type = 'signature_invalid';
CREATE INDEX webhook_logs_repairs_idx ON payments.webhook_logs (created_at)
    WHERE event_type LIKE 'reconcile\_%';

CREATE TABLE payments.alert_thresholds (
    name         text     PRIMARY KEY,
    threshold    numeric  NOT NULL,
    "window"     interval,
    description  text     NOT NULL
);
INSERT INTO payments.alert_thresholds (name, threshold, "window", description) VALUES
    ('signature_failures', 5, '1 hour',
     'webhook notifications with an invalid signature in the window'),
    ('mismatches_found', 10, '1 day',
     'mismatches found by reconciliation in the window'),
    ('repairs', 10, '1 day', 'repairs made by reconciliation in the window'),
    ('oldest_unfulfilled_paid_seconds', 900, NULL,
     'age in seconds of the oldest paid order whose tickets / pickup code are missing'),
    ('open_reviews', 0, NULL, 'orders flagged needs_review'),
    ('stale_pending', 0, '30 minutes',
     'pending orders past expires_at by more than the window'),
    ('last_sync_age_seconds', 600, NULL, 'seconds since the last successful sync run'),
    ('last_reconcile_age_seconds', 7200, NULL,
     'seconds since the last successful reconcile run');

-- Partial indexes: every reconciliation query is driven by the few orders that
-- need attention, never by a scan of all orders. The predicates are repeated
-- verbatim by find_mismatches / reconcile_local so the planner can use them.
CREATE INDEX orders_ticket_unfulfilled_idx ON payments.orders (id)
    WHERE kind = 'ticket' AND status = 'paid' AND NOT needs_review
      AND (tickets_issued_at IS NULL OR capacity_released_at IS NOT NULL);
CREATE INDEX orders_ticket_unreleased_idx ON payments.orders (id)
    WHERE kind = 'ticket' AND status IN ('failed', 'expired', 'refunded')
      AND capacity_released_at IS NULL;
CREATE INDEX orders_product_unfulfilled_idx ON payments.orders (id)
    WHERE kind = 'product' AND status = 'paid' AND NOT needs_review
      AND (pickup_code IS NULL OR stock_confirmed_at IS NULL OR stock_released_at IS NOT NULL);
CREATE INDEX orders_product_unreleased_idx ON payments.orders (id)
    WHERE kind = 'product' AND status IN ('failed', 'expired', 'refunded')
      AND stock_released_at IS NULL;
CREATE INDEX orders_pending_expires_idx ON payments.orders (expires_at)
    WHERE status = 'pending';
CREATE INDEX orders_review_idx ON payments.orders (updated_at) WHERE needs_review;
CREATE INDEX orders_paid_unfulfilled_since_idx ON payments.orders (paid_at)
    WHERE status = 'paid'
      AND ((kind = 'ticket' AND (tickets_issued_at IS NULL OR capacity_released_at IS NOT NULL))
        OR (kind = 'product' AND (pickup_code IS NULL OR stock_confirmed_at IS NULL
                                  OR stock_released_at IS NOT NULL)));

-- Result of normalize_midtrans_status (the status mapping of that release).
CREATE TYPE payments.normalized_status AS (
    order_status   text,    -- pending | paid | failed | expired | refunded | NULL (unchanged)
    review_reason  text,    -- set when the event flags the order for review
    recognized     boolean  -- false: unknown transaction_status, logged as unknown_status
);
