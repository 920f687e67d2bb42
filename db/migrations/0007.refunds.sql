-- Refunds initiated from the shop. Every refund request is a row, written
-- with its refund_key BEFORE the Refund API is called, so a retry after a
-- timeout or a crash reuses the key of the open request and Midtrans replays
-- its first answer instead of refunding twice. What goes back with a partial
-- refund (tickets voided, items restocked) is recorded on the request and
-- taken off the order's items (quantity and finalized_quantity shrink
-- together, so every holding rule and invariant keeps its meaning); an item
-- whose every unit went back keeps quantity 0. See docs/SQL_API.md, Refunds.
-- depends: 0006.clock-catalog

CREATE TABLE payments.refund_requests (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint        NOT NULL REFERENCES payments.orders (id),
    transaction_id  text          NOT NULL CHECK (transaction_id <> ''),
    -- Midtrans' idempotency key: letters, digits, - and _ only
    refund_key      text          NOT NULL UNIQUE CHECK (refund_key ~ '^[A-Za-z0-9_-]{1,64}$'),
    amount          numeric(14,2) NOT NULL CHECK (amount > 0),
    reason          text          CHECK (length(reason) <= 255),
    -- what goes back: {"tickets": [ticket ids], "restock": [{"variant_id", "sku", "quantity"}]}
    goods           jsonb         NOT NULL DEFAULT '{}'::jsonb,
    requested_by    text          NOT NULL,
    state           text          NOT NULL DEFAULT 'requested'
                    CHECK (state IN ('requested', 'succeeded', 'refused', 'failed')),
    -- Midtrans' answer, secrets scrubbed; what went back, once succeeded
    answer          jsonb,
    returned        jsonb,
    requested_at    timestamptz   NOT NULL DEFAULT payments_private.clock(),
    finished_at     timestamptz,
    finished_by     text,
    CONSTRAINT refund_requests_finished_check
        CHECK ((state = 'requested') = (finished_at IS NULL) AND (finished_at IS NULL) = (finished_by IS NULL))
);
-- at most one open request per order: its retry must reuse its key
CREATE UNIQUE INDEX refund_requests_open_idx ON payments.refund_requests (order_id) WHERE state = 'requested';
CREATE INDEX refund_requests_order_idx ON payments.refund_requests (order_id, id);
COMMENT ON TABLE payments.refund_requests IS
    'Refunds asked of Midtrans by the shop, recorded before the call (refund_key); written only by request_refund, record_refund and close_refund_request';

-- an item may have had every unit returned
ALTER TABLE payments.ticket_order_items DROP CONSTRAINT ticket_order_items_quantity_check,
    ADD CONSTRAINT ticket_order_items_quantity_check CHECK (quantity >= 0);
ALTER TABLE payments.product_order_items DROP CONSTRAINT product_order_items_quantity_check,
    ADD CONSTRAINT product_order_items_quantity_check CHECK (quantity >= 0);

-- a refund made in the Midtrans dashboard is recorded under its own name;
-- 'refund' now means a refund made through the Refund API (refund_requests)
ALTER TABLE payments.order_reviews DROP CONSTRAINT order_reviews_resolution_check,
    ADD CONSTRAINT order_reviews_resolution_check
        CHECK (resolution IN ('accept', 'refund', 'refunded_in_dashboard', 'dismiss', 'auto'));
