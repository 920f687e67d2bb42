-- Checkout: the Snap transaction of an order created through `payments
-- checkout` / `POST /checkout`, one row per order. The row is the checkout's
-- idempotency record: the Snap token and redirect URL once Snap answered (a
-- retry of the same order number gets them back instead of a second Snap
-- transaction), the expiry sent to Snap (derived from the order's created_at
-- and expires_at, so a retry sends the same one), and while no token is
-- stored, which runner process is asking Snap now and until when (a claim
-- with an expiry, like a lease: a runner that died keeps it only until
-- claimed_until). Written only by payments.begin_checkout, finish_checkout and
-- abandon_checkout. The token opens the customer's payment page (and the
-- customer details sent with it): payments_readonly does not see it.
-- depends: 0007.refunds

CREATE TABLE payments.checkouts (
    order_id       bigint      PRIMARY KEY REFERENCES payments.orders (id),
    snap_expiry    jsonb       NOT NULL CHECK (jsonb_typeof(snap_expiry) = 'object'),
    snap_token     text        CHECK (length(snap_token) BETWEEN 1 AND 200),
    redirect_url   text        CHECK (length(redirect_url) BETWEEN 1 AND 2000),
    claimed_by     text        CHECK (length(claimed_by) BETWEEN 1 AND 200),
    claimed_until  timestamptz,
    attempts       integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at     timestamptz NOT NULL DEFAULT payments_private.clock(),
    token_at       timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT payments_private.clock(),
    CONSTRAINT checkouts_token_check CHECK (
        (snap_token IS NULL) = (redirect_url IS NULL) AND (snap_token IS NULL) = (token_at IS NULL)),
    CONSTRAINT checkouts_claim_check CHECK ((claimed_by IS NULL) = (claimed_until IS NULL)),
    CONSTRAINT checkouts_claim_or_token_check CHECK (snap_token IS NULL OR claimed_by IS NULL)
);
COMMENT ON TABLE payments.checkouts IS
    'The Snap transaction of a checkout: token, redirect URL, the expiry sent to Snap, and who is asking Snap now; written only by begin_checkout, finish_checkout and abandon_checkout';
