-- Checkout (payments.checkouts): create an order and its Snap transaction
-- once per order number, whoever retries. The runner calls three functions,
-- each one autocommit statement, and asks Snap in between (never holding a
-- transaction across the HTTP call):
--   begin_checkout   creates the order (or finds it) and either returns the
--                    stored Snap token (state ready), or claims the Snap call
--                    for its holder (claimed), or says another holder is
--                    asking Snap right now (busy) or that the order can no
--                    longer be paid (closed);
--   finish_checkout  stores the token Snap returned (the first one stored wins);
--   abandon_checkout Snap refused or could not be reached: the order's payment
--                    window is closed at once (expire_order), capacity / stock
--                    released, unless a token was stored meanwhile.
-- Every writer of a checkout locks its order row first (lock order: orders ->
-- checkouts -> slots / variants), so concurrent retries of one order number
-- are serialised.

-- payments_private.snap_expiry(created_at, expires_at)
-- The Snap `expiry` object for an order: start_time = created_at (truncated to
-- the second, Jakarta time, Snap's "yyyy-MM-dd HH:mm:ss Z"), unit minute,
-- duration = whole minutes from start_time to expires_at (rounded down), so
-- Midtrans' payment window closes no later than the order's hold.
CREATE OR REPLACE FUNCTION payments_private.snap_expiry(created_at timestamptz, expires_at timestamptz)
RETURNS jsonb
LANGUAGE sql
STABLE
AS $$
    SELECT jsonb_build_object(
        'start_time', to_char(to_timestamp(floor(extract(epoch FROM snap_expiry.created_at)))
                              AT TIME ZONE 'UTC' + interval '7 hours', 'YYYY-MM-DD HH24:MI:SS') || ' +0700',
        'unit', 'minute',
        'duration', floor((extract(epoch FROM snap_expiry.expires_at)
                           - floor(extract(epoch FROM snap_expiry.created_at))) / 60)::integer)
$$;

COMMENT ON FUNCTION payments_private.snap_expiry(timestamptz, timestamptz) IS
    'The Snap expiry {start_time, unit minute, duration} whose window closes no later than expires_at';

-- payments_private.checkout_result(order_id, state, created)
CREATE OR REPLACE FUNCTION payments_private.checkout_result(order_id bigint, state text, created boolean)
RETURNS jsonb
LANGUAGE sql
STABLE
AS $$
    SELECT jsonb_build_object(
        'state', checkout_result.state,
        'created', checkout_result.created,
        'order_number', o.order_number,
        'kind', o.kind,
        'status', o.status,
        'gross_amount', o.gross_amount,
        'currency', o.currency,
        'created_at', o.created_at,
        'expires_at', o.expires_at,
        'snap_expiry', c.snap_expiry,
        'snap_expires_at', to_timestamp(floor(extract(epoch FROM o.created_at)))
                           + make_interval(mins => (c.snap_expiry ->> 'duration')::integer),
        'snap_token', c.snap_token,
        'redirect_url', c.redirect_url,
        'claimed_by', c.claimed_by,
        'claimed_until', c.claimed_until,
        'attempts', c.attempts)
      FROM payments.orders AS o
      JOIN payments.checkouts AS c ON c.order_id = o.id
     WHERE o.id = checkout_result.order_id
$$;

COMMENT ON FUNCTION payments_private.checkout_result(bigint, text, boolean) IS
    'The jsonb result of the checkout functions for one order';

-- payments.begin_checkout(order_number, kind, items, hold, gross_amount, currency, holder, claim_ttl)
CREATE OR REPLACE FUNCTION payments.begin_checkout(
    order_number text,
    kind text,
    items jsonb,
    hold interval,
    gross_amount numeric,
    currency text DEFAULT 'IDR',
    holder text DEFAULT NULL,
    claim_ttl interval DEFAULT '1 minute'
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    c payments.checkouts;
    v_created boolean := false;
    v_now timestamptz := payments_private.wall_clock();
BEGIN
    IF begin_checkout.kind IS NULL OR begin_checkout.kind NOT IN ('ticket', 'product') THEN
        RAISE EXCEPTION 'kind must be ticket or product, got %', quote_nullable(left(begin_checkout.kind, 40))
            USING ERRCODE = 'PM009';
    END IF;
    IF begin_checkout.hold IS NULL OR begin_checkout.hold < interval '1 minute' THEN
        RAISE EXCEPTION 'hold must be at least 1 minute (Snap counts its expiry in whole minutes), got %',
            quote_nullable(begin_checkout.hold)
            USING ERRCODE = 'PM009';
    END IF;
    IF begin_checkout.holder IS NULL OR length(begin_checkout.holder) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'checkout holder must be 1 to 200 characters' USING ERRCODE = 'PM009';
    END IF;
    IF begin_checkout.claim_ttl IS NULL
       OR begin_checkout.claim_ttl NOT BETWEEN interval '1 second' AND interval '1 hour' THEN
        RAISE EXCEPTION 'claim_ttl must be between 1 second and 1 hour, got %',
            quote_nullable(begin_checkout.claim_ttl)
            USING ERRCODE = 'PM009';
    END IF;

    SELECT * INTO o FROM payments.orders AS x WHERE x.order_number = begin_checkout.order_number FOR UPDATE;
    IF NOT FOUND THEN
        BEGIN
            IF begin_checkout.kind = 'ticket' THEN
                PERFORM payments.create_ticket_order(begin_checkout.order_number, begin_checkout.items,
                    payments_private.clock() + begin_checkout.hold, begin_checkout.gross_amount, begin_checkout.currency);
            ELSE
                PERFORM payments.create_product_order(begin_checkout.order_number, begin_checkout.items,
                    payments_private.clock() + begin_checkout.hold, begin_checkout.gross_amount, begin_checkout.currency);
            END IF;
            v_created := true;
        EXCEPTION WHEN SQLSTATE 'PM002' THEN
            NULL;   -- a concurrent checkout of the same number created it and committed
        END;
        SELECT * INTO STRICT o FROM payments.orders AS x
         WHERE x.order_number = begin_checkout.order_number FOR UPDATE;
    END IF;

    IF o.kind <> begin_checkout.kind OR o.gross_amount <> begin_checkout.gross_amount
       OR o.currency <> coalesce(begin_checkout.currency, 'IDR') THEN
        RAISE EXCEPTION 'order % exists as a % order of % %, not a % order of % %', o.order_number,
            o.kind, o.gross_amount, o.currency, begin_checkout.kind, begin_checkout.gross_amount,
            begin_checkout.currency
            USING ERRCODE = 'PM030';
    END IF;

    INSERT INTO payments.checkouts AS k (order_id, snap_expiry)
    VALUES (o.id, payments_private.snap_expiry(o.created_at, o.expires_at))
    ON CONFLICT (order_id) DO NOTHING;
    SELECT * INTO STRICT c FROM payments.checkouts AS k WHERE k.order_id = o.id;

    IF c.snap_token IS NOT NULL THEN
        RETURN payments_private.checkout_result(o.id, 'ready', v_created);
    END IF;
    IF o.status <> 'pending' OR o.expires_at <= v_now THEN
        RETURN payments_private.checkout_result(o.id, 'closed', v_created);
    END IF;
    IF (c.snap_expiry ->> 'duration')::integer < 1 THEN
        RAISE EXCEPTION 'order % holds its goods for less than a minute after its creation; Snap cannot mirror that window',
            o.order_number
            USING ERRCODE = 'PM031';
    END IF;
    IF c.claimed_until > v_now AND c.claimed_by <> begin_checkout.holder THEN
        RETURN payments_private.checkout_result(o.id, 'busy', v_created);
    END IF;
    UPDATE payments.checkouts AS k
       SET claimed_by = begin_checkout.holder, claimed_until = v_now + begin_checkout.claim_ttl,
           attempts = k.attempts + 1, updated_at = v_now
     WHERE k.order_id = o.id;
    RETURN payments_private.checkout_result(o.id, 'claimed', v_created);
END
$$;

COMMENT ON FUNCTION payments.begin_checkout(text, text, jsonb, interval, numeric, text, text, interval) IS
    'Creates the order of a checkout (or finds it) and returns its Snap token (ready), claims the Snap call (claimed), or says busy / closed; PM030 different order, PM031 window under a minute, and the create_*_order codes';

-- payments.finish_checkout(order_number, holder, snap_token, redirect_url)
CREATE OR REPLACE FUNCTION payments.finish_checkout(
    order_number text,
    holder text,
    snap_token text,
    redirect_url text
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
BEGIN
    IF finish_checkout.snap_token IS NULL OR length(finish_checkout.snap_token) NOT BETWEEN 1 AND 200
       OR finish_checkout.redirect_url IS NULL
       OR length(finish_checkout.redirect_url) NOT BETWEEN 1 AND 2000 THEN
        RAISE EXCEPTION 'snap_token (1-200 characters) and redirect_url (1-2000) are required'
            USING ERRCODE = 'PM009';
    END IF;
    o := payments_private.lock_order(finish_checkout.order_number);
    IF NOT EXISTS (SELECT 1 FROM payments.checkouts AS k WHERE k.order_id = o.id) THEN
        RAISE EXCEPTION 'order % has no checkout', o.order_number USING ERRCODE = 'PM032';
    END IF;
    -- the first token stored wins; a valid token from Snap is kept whoever
    -- holds the claim (a holder that outlived its claim still asked Snap)
    UPDATE payments.checkouts AS k
       SET snap_token = finish_checkout.snap_token, redirect_url = finish_checkout.redirect_url,
           token_at = payments_private.wall_clock(), claimed_by = NULL, claimed_until = NULL, updated_at = payments_private.wall_clock()
     WHERE k.order_id = o.id AND k.snap_token IS NULL;
    RETURN payments_private.checkout_result(o.id, CASE WHEN o.status = 'pending' OR o.status = 'paid'
                                                       THEN 'ready' ELSE 'closed' END, false);
END
$$;

COMMENT ON FUNCTION payments.finish_checkout(text, text, text, text) IS
    'Stores the Snap token of a checkout (the first one stored wins) and returns the checkout; PM001, PM009, PM032 no checkout';

-- payments.abandon_checkout(order_number, holder, reason)
CREATE OR REPLACE FUNCTION payments.abandon_checkout(
    order_number text,
    holder text,
    reason text
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    c payments.checkouts;
    v_expired jsonb;
BEGIN
    o := payments_private.lock_order(abandon_checkout.order_number);
    SELECT * INTO c FROM payments.checkouts AS k WHERE k.order_id = o.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % has no checkout', o.order_number USING ERRCODE = 'PM032';
    END IF;
    IF c.snap_token IS NOT NULL THEN   -- another attempt got a token meanwhile: keep the order
        RETURN payments_private.checkout_result(o.id, 'ready', false);
    END IF;
    IF c.claimed_until > payments_private.wall_clock() AND c.claimed_by IS DISTINCT FROM abandon_checkout.holder THEN
        RETURN payments_private.checkout_result(o.id, 'busy', false);   -- someone else is asking Snap now
    END IF;
    UPDATE payments.checkouts AS k SET claimed_by = NULL, claimed_until = NULL, updated_at = payments_private.wall_clock()
     WHERE k.order_id = o.id;
    v_expired := payments.expire_order(o.order_number, 'manual', NULL, false, NULL,
        jsonb_build_object('checkout', 'abandoned', 'reason', left(abandon_checkout.reason, 300)));
    RETURN payments_private.checkout_result(o.id, 'released', false)
           || jsonb_build_object('expire', v_expired);
END
$$;

COMMENT ON FUNCTION payments.abandon_checkout(text, text, text) IS
    'Snap refused or could not be reached: closes the order''s payment window (expire_order), releasing its goods, unless a token was stored or another holder is asking Snap; PM001, PM032';
