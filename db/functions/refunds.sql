-- Refunds initiated from the shop (payments.refund_requests, migration 0007).
--
-- The database cannot call Midtrans, so a refund is three calls, each one
-- transaction, with the Refund API call between the first and the last:
--   request_refund        records the request and its refund_key BEFORE the
--                         HTTP call; a retry of an open request returns it
--                         (same key: Midtrans replays its first answer and
--                         refunds nothing more)
--   record_refund         Midtrans refunded: applies the transaction's Status
--                         API answer through apply_gateway_status (evidence
--                         status_api), returns the goods the operator named,
--                         closes the request: one transaction
--   close_refund_request  Midtrans (or the bank) refused, or the call failed
--                         for certain: only the request changes
-- An answer that never came (timeout, crash) leaves the request open; the
-- next `payments refund` of that order retries it with the same key.
-- Lock order, as everywhere: the order row, then the request row, then the
-- order's slots / variants in id order.

-- payments_private.refund_goods(o, goods)
-- The goods an operator names for a refund, checked against the order and
-- normalised: {"tickets": [ticket ids, sorted], "restock": [{variant_id, sku,
-- quantity}, sorted by variant_id]}. `goods` is {"tickets": [code or id, ...],
-- "restock": {"SKU": quantity, ...}} (either key optional). Tickets must be
-- active tickets of this ticket order; a restocked quantity at most what the
-- order has sold of the variant (finalized_quantity). PM020 otherwise. Ticket
-- codes are bearer codes: they are matched here and never stored or logged.
CREATE OR REPLACE FUNCTION payments_private.refund_goods(o payments.orders, goods jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
DECLARE
    v_tickets jsonb := coalesce(refund_goods.goods -> 'tickets', '[]'::jsonb);
    v_restock jsonb := coalesce(refund_goods.goods -> 'restock', '{}'::jsonb);
    v_ids bigint[] := '{}';
    v_id bigint;
    v_entry jsonb;
    v_lines jsonb := '[]'::jsonb;
    v_item record;
    v_key text;
    v_qty integer;
    v_n bigint;
BEGIN
    IF refund_goods.goods IS NULL OR refund_goods.goods = '{}'::jsonb THEN
        RETURN '{}'::jsonb;
    END IF;
    IF jsonb_typeof(refund_goods.goods) <> 'object'
       OR EXISTS (SELECT 1 FROM jsonb_object_keys(refund_goods.goods) AS k WHERE k NOT IN ('tickets', 'restock')) THEN
        RAISE EXCEPTION 'goods must be an object with "tickets" and / or "restock"' USING ERRCODE = 'PM020';
    END IF;
    IF jsonb_typeof(v_tickets) <> 'array' OR jsonb_typeof(v_restock) <> 'object' THEN
        RAISE EXCEPTION 'goods.tickets must be an array of ticket codes or ids, goods.restock an object SKU -> quantity'
            USING ERRCODE = 'PM020';
    END IF;
    IF jsonb_array_length(v_tickets) > 0 AND refund_goods.o.kind <> 'ticket' THEN
        RAISE EXCEPTION 'order % is a % order: it has no tickets to return', refund_goods.o.order_number,
            refund_goods.o.kind USING ERRCODE = 'PM020';
    END IF;
    IF v_restock <> '{}'::jsonb AND refund_goods.o.kind <> 'product' THEN
        RAISE EXCEPTION 'order % is a % order: it has no stock to return', refund_goods.o.order_number,
            refund_goods.o.kind USING ERRCODE = 'PM020';
    END IF;
    FOR v_entry, v_n IN SELECT x, n FROM jsonb_array_elements(v_tickets) WITH ORDINALITY AS e (x, n) LOOP
        v_id := NULL;
        IF jsonb_typeof(v_entry) = 'number' OR (jsonb_typeof(v_entry) = 'string' AND v_entry #>> '{}' ~ '^[0-9]{1,18}$') THEN
            SELECT t.id INTO v_id FROM payments.tickets AS t
              JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id
             WHERE i.order_id = refund_goods.o.id AND t.id = (v_entry #>> '{}')::bigint AND t.status = 'active';
        ELSIF jsonb_typeof(v_entry) = 'string' THEN
            SELECT t.id INTO v_id FROM payments.tickets AS t
              JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id
             WHERE i.order_id = refund_goods.o.id AND t.code = v_entry #>> '{}' AND t.status = 'active';
        END IF;
        IF v_id IS NULL THEN
            -- never the code in the message: it is a bearer code
            RAISE EXCEPTION 'ticket number % of the list is not an active ticket of order %', v_n,
                refund_goods.o.order_number USING ERRCODE = 'PM020';
        END IF;
        IF v_id = ANY (v_ids) THEN
            RAISE EXCEPTION 'ticket % is named twice', v_id USING ERRCODE = 'PM020';
        END IF;
        v_ids := v_ids || v_id;
    END LOOP;
    FOR v_key, v_entry IN SELECT k, v FROM jsonb_each(v_restock) AS e (k, v) LOOP
        IF jsonb_typeof(v_entry) <> 'number' OR (v_entry #>> '{}') !~ '^[0-9]{1,4}$' OR (v_entry #>> '{}')::integer < 1 THEN
            RAISE EXCEPTION 'restock quantity of % must be an integer >= 1', v_key USING ERRCODE = 'PM020';
        END IF;
        v_qty := (v_entry #>> '{}')::integer;
        SELECT i.variant_id, v.sku, i.finalized_quantity INTO v_item
          FROM payments.product_order_items AS i
          JOIN payments.product_variants AS v ON v.id = i.variant_id
         WHERE i.order_id = refund_goods.o.id AND v.sku = v_key;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'order % has no item of SKU %', refund_goods.o.order_number, v_key USING ERRCODE = 'PM020';
        END IF;
        IF v_qty > v_item.finalized_quantity THEN
            RAISE EXCEPTION 'order % has sold % of SKU %, cannot restock %', refund_goods.o.order_number,
                v_item.finalized_quantity, v_key, v_qty USING ERRCODE = 'PM020';
        END IF;
        v_lines := v_lines || jsonb_build_object('variant_id', v_item.variant_id, 'sku', v_item.sku, 'quantity', v_qty);
    END LOOP;
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'tickets', CASE WHEN cardinality(v_ids) > 0
                        THEN (SELECT jsonb_agg(x ORDER BY x) FROM unnest(v_ids) AS x) END,
        'restock', CASE WHEN jsonb_array_length(v_lines) > 0
                        THEN (SELECT jsonb_agg(x ORDER BY (x ->> 'variant_id')::bigint)
                                FROM jsonb_array_elements(v_lines) AS x) END));
END
$$;

COMMENT ON FUNCTION payments_private.refund_goods(payments.orders, jsonb) IS
    'The goods named for a refund, checked against the order and normalised (ticket ids, restock lines); PM020';

-- payments_private.return_goods(o, r)
-- Takes the goods of a refund request back, with the order row and its slots
-- / variants already locked: each named ticket still active is voided and its
-- item gives up one unit (quantity and finalized_quantity) and its slot one
-- sold seat; each restock line gives the variant back `quantity` sold units.
-- What could not be returned (a ticket no longer active, fewer units sold
-- than named: the order changed since the request) is reported, never forced.
CREATE OR REPLACE FUNCTION payments_private.return_goods(o payments.orders, r payments.refund_requests)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_item record;
    v_voided bigint[] := '{}';
    v_restocked jsonb := '[]'::jsonb;
    v_skipped jsonb := '[]'::jsonb;
    v_line jsonb;
    v_qty integer;
BEGIN
    IF return_goods.r.goods -> 'tickets' IS NOT NULL THEN
        FOR v_item IN
            WITH voided AS (
                UPDATE payments.tickets AS t SET status = 'void', voided_at = payments_private.clock()
                 WHERE t.id IN (SELECT x::bigint FROM jsonb_array_elements_text(return_goods.r.goods -> 'tickets') AS x)
                   AND t.status = 'active'
                   AND t.order_item_id IN (SELECT i.id FROM payments.ticket_order_items AS i
                                            WHERE i.order_id = return_goods.o.id)
                RETURNING t.id, t.order_item_id)
            SELECT v.order_item_id, count(*)::integer AS n, array_agg(v.id ORDER BY v.id) AS ids
              FROM voided AS v GROUP BY v.order_item_id ORDER BY v.order_item_id
        LOOP
            UPDATE payments.ticket_order_items AS i
               SET quantity = i.quantity - v_item.n, finalized_quantity = i.finalized_quantity - v_item.n
             WHERE i.id = v_item.order_item_id;
            UPDATE payments.ticket_slots AS s SET sold = s.sold - v_item.n, updated_at = payments_private.clock()
              FROM payments.ticket_order_items AS i
             WHERE i.id = v_item.order_item_id AND s.id = i.slot_id;
            v_voided := v_voided || v_item.ids;
        END LOOP;
        SELECT coalesce(jsonb_agg(x), '[]'::jsonb) INTO v_skipped
          FROM jsonb_array_elements(return_goods.r.goods -> 'tickets') AS x
         WHERE NOT (x::text::bigint = ANY (v_voided));
    END IF;
    FOR v_line IN SELECT x FROM jsonb_array_elements(coalesce(return_goods.r.goods -> 'restock', '[]'::jsonb)) AS x LOOP
        SELECT least((v_line ->> 'quantity')::integer, i.finalized_quantity) INTO v_qty
          FROM payments.product_order_items AS i
         WHERE i.order_id = return_goods.o.id AND i.variant_id = (v_line ->> 'variant_id')::bigint;
        v_qty := coalesce(v_qty, 0);
        IF v_qty > 0 THEN
            UPDATE payments.product_order_items AS i
               SET quantity = i.quantity - v_qty, finalized_quantity = i.finalized_quantity - v_qty
             WHERE i.order_id = return_goods.o.id AND i.variant_id = (v_line ->> 'variant_id')::bigint;
            UPDATE payments.product_variants AS v SET sold = v.sold - v_qty, updated_at = payments_private.clock()
             WHERE v.id = (v_line ->> 'variant_id')::bigint;
            v_restocked := v_restocked || jsonb_build_object('sku', v_line ->> 'sku', 'quantity', v_qty);
        END IF;
        IF v_qty < (v_line ->> 'quantity')::integer THEN
            v_skipped := v_skipped || jsonb_build_object('sku', v_line ->> 'sku',
                                                         'quantity', (v_line ->> 'quantity')::integer - v_qty);
        END IF;
    END LOOP;
    RETURN jsonb_build_object('tickets_voided', to_jsonb(v_voided), 'restocked', v_restocked,
                              'not_returned', v_skipped);
END
$$;

COMMENT ON FUNCTION payments_private.return_goods(payments.orders, payments.refund_requests) IS
    'Voids the named tickets / restocks the named units of a refund (order and goods locked by the caller)';

-- payments.request_refund(order_number, amount, reason, transaction_id, goods)
-- Records a refund request before the Refund API is called (see the top).
CREATE OR REPLACE FUNCTION payments.request_refund(
    order_number   text,
    amount         numeric DEFAULT NULL,
    reason         text    DEFAULT NULL,
    transaction_id text    DEFAULT NULL,
    goods          jsonb   DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
    r payments.refund_requests;
    t payments.gateway_transactions;
    v_reason text := nullif(btrim(request_refund.reason), '');
    v_tx text := nullif(btrim(request_refund.transaction_id), '');
    v_paying integer;
    v_left numeric;
    v_amount numeric;
    v_goods jsonb;
BEGIN
    IF request_refund.amount IS NOT NULL AND (request_refund.amount <= 0 OR request_refund.amount >= 1e12
                                              OR request_refund.amount <> round(request_refund.amount, 2)) THEN
        RAISE EXCEPTION 'refund amount must be > 0, < 10^12, with at most 2 decimals, got %', request_refund.amount
            USING ERRCODE = 'PM020';
    END IF;
    IF length(v_reason) > 255 THEN
        RAISE EXCEPTION 'refund reason is longer than 255 characters' USING ERRCODE = 'PM020';
    END IF;
    o := payments_private.lock_order(request_refund.order_number);

    -- an open request: its outcome is unknown, so a retry must reuse its key
    SELECT * INTO r FROM payments.refund_requests AS x
     WHERE x.order_id = o.id AND x.state = 'requested'
       FOR UPDATE;
    IF FOUND THEN
        IF (request_refund.amount IS NULL OR request_refund.amount = r.amount)
           AND (v_tx IS NULL OR v_tx = r.transaction_id)
           AND (request_refund.goods IS NULL OR request_refund.goods = '{}'::jsonb
                OR payments_private.refund_goods(o, request_refund.goods) = r.goods) THEN
            RETURN jsonb_build_object('request_id', r.id, 'order_number', o.order_number,
                'transaction_id', r.transaction_id, 'refund_key', r.refund_key, 'amount', r.amount,
                'reason', r.reason, 'goods', r.goods, 'state', r.state, 'reused', true,
                'requested_at', r.requested_at, 'requested_by', r.requested_by);
        END IF;
        RAISE EXCEPTION 'order % has an open refund request #% (amount %, requested by % at %) whose answer '
                        'never arrived: retry it first (same amount), then ask again',
            o.order_number, r.id, r.amount, r.requested_by, r.requested_at USING ERRCODE = 'PM023';
    END IF;

    -- the settled transaction to refund
    SELECT count(*) INTO v_paying FROM payments.gateway_transactions AS x
     WHERE x.order_id = o.id AND x.stage IN (22, 40);
    SELECT * INTO t FROM payments.gateway_transactions AS x
     WHERE x.order_id = o.id AND x.stage IN (22, 40) AND (v_tx IS NULL OR x.transaction_id = v_tx)
     ORDER BY x.updated_at DESC, x.transaction_id
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % (%) has no settled payment to refund%: %', o.order_number, o.status,
            CASE WHEN v_tx IS NOT NULL THEN ' in transaction ' || v_tx ELSE '' END,
            coalesce((SELECT string_agg(x.transaction_id || ' ' || x.transaction_status, ', ' ORDER BY x.transaction_id)
                        FROM payments.gateway_transactions AS x WHERE x.order_id = o.id), 'no transaction recorded')
            USING ERRCODE = 'PM021';
    END IF;
    IF v_tx IS NULL AND v_paying > 1 THEN
        RAISE EXCEPTION 'order % has % settled payments (%): name the transaction to refund', o.order_number, v_paying,
            (SELECT string_agg(x.transaction_id, ', ' ORDER BY x.transaction_id) FROM payments.gateway_transactions AS x
              WHERE x.order_id = o.id AND x.stage IN (22, 40)) USING ERRCODE = 'PM021';
    END IF;
    v_left := t.gross_amount - t.refund_amount;
    v_amount := coalesce(request_refund.amount, v_left);
    IF v_amount > v_left OR v_left <= 0 THEN
        RAISE EXCEPTION 'refund of % on order % is above what is left of transaction %: % of % (% refunded)',
            v_amount, o.order_number, t.transaction_id, v_left, t.gross_amount, t.refund_amount
            USING ERRCODE = 'PM022';
    END IF;
    v_goods := payments_private.refund_goods(o, request_refund.goods);

    INSERT INTO payments.refund_requests (order_id, transaction_id, refund_key, amount, reason, goods, requested_by)
    VALUES (o.id, t.transaction_id,
            'rf-' || o.id || '-' || substr(md5(random()::text || clock_timestamp()::text), 1, 16),
            v_amount, v_reason, v_goods, session_user)
    RETURNING * INTO r;
    PERFORM payments_private.write_log(NULL, 'manual', 'refund_requested', 'requested', o.order_number,
        t.transaction_id, NULL, NULL, NULL, v_amount, NULL,
        jsonb_build_object('request_id', r.id, 'refund_key', r.refund_key, 'amount', v_amount, 'reason', v_reason,
                           'goods', v_goods, 'actor', session_user),
        NULL, NULL);
    RETURN jsonb_build_object('request_id', r.id, 'order_number', o.order_number,
        'transaction_id', r.transaction_id, 'refund_key', r.refund_key, 'amount', r.amount,
        'reason', r.reason, 'goods', r.goods, 'state', r.state, 'reused', false,
        'requested_at', r.requested_at, 'requested_by', r.requested_by);
END
$$;

COMMENT ON FUNCTION payments.request_refund(text, numeric, text, text, jsonb) IS
    'Records a refund request (refund_key) before the Refund API call, or returns the open one to retry; PM001, PM020-PM023';

-- payments_private.lock_refund_request(request_id)
-- The order row, then the request row, locked in that order; PM024 unknown request.
CREATE OR REPLACE FUNCTION payments_private.lock_refund_request(request_id bigint)
RETURNS payments.refund_requests
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    r payments.refund_requests;
BEGIN
    PERFORM payments_private.lock_order(o.order_number)
       FROM payments.refund_requests AS x JOIN payments.orders AS o ON o.id = x.order_id
      WHERE x.id = lock_refund_request.request_id;
    SELECT * INTO r FROM payments.refund_requests AS x WHERE x.id = lock_refund_request.request_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown refund request %', lock_refund_request.request_id USING ERRCODE = 'PM024';
    END IF;
    IF r.state <> 'requested' THEN
        RAISE EXCEPTION 'refund request % is already %', r.id, r.state USING ERRCODE = 'PM024';
    END IF;
    RETURN r;
END
$$;

COMMENT ON FUNCTION payments_private.lock_refund_request(bigint) IS
    'Locks the order, then the open refund request; PM024 unknown or finished request';

-- payments.record_refund(request_id, answer, status)
-- Midtrans refunded (answer: the Refund API's success answer for this
-- request's refund_key). In one transaction: locks the order, the request and
-- the order's slots / variants (id order); applies `status`, the Status API's
-- answer for the refunded transaction, through apply_gateway_status (source
-- manual, evidence status_api: an answer of Midtrans' API to our
-- authenticated call); returns the named goods while the order is still paid
-- (a full refund released everything already); closes the open
-- partial_refund review of that transaction as decided by the requester
-- (resolution dismiss: the goods were decided with the request); marks the
-- request succeeded. `status` NULL (the Status API did not answer): the
-- ledger follows with Midtrans' notification or the next sync.
CREATE OR REPLACE FUNCTION payments.record_refund(request_id bigint, answer jsonb, status jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r payments.refund_requests;
    o payments.orders;
    v_applied jsonb;
    v_returned jsonb;
    v_closed integer := 0;
BEGIN
    r := payments_private.lock_refund_request(record_refund.request_id);
    IF record_refund.answer IS NULL OR jsonb_typeof(record_refund.answer) <> 'object'
       OR record_refund.answer ->> 'status_code' IS DISTINCT FROM '200'
       OR coalesce(record_refund.answer ->> 'transaction_status', '') NOT IN ('refund', 'partial_refund')
       OR record_refund.answer ->> 'refund_key' IS DISTINCT FROM r.refund_key THEN
        RAISE EXCEPTION 'not Midtrans'' successful refund answer for request % (status_code %, refund_key %)',
            r.id, quote_nullable(record_refund.answer ->> 'status_code'),
            quote_nullable(record_refund.answer ->> 'refund_key') USING ERRCODE = 'PM020';
    END IF;
    IF record_refund.status IS NOT NULL
       AND record_refund.status ->> 'transaction_id' IS DISTINCT FROM r.transaction_id THEN
        RAISE EXCEPTION 'the status answer is about transaction %, the request about %',
            quote_nullable(record_refund.status ->> 'transaction_id'), r.transaction_id USING ERRCODE = 'PM020';
    END IF;
    SELECT * INTO o FROM payments.orders AS x WHERE x.id = r.order_id;
    IF o.kind = 'ticket' THEN
        PERFORM payments_private.lock_slots(o.id);
    ELSE
        PERFORM payments_private.lock_variants(o.id);
    END IF;
    IF record_refund.status IS NOT NULL THEN
        v_applied := payments.apply_gateway_status(o.order_number, record_refund.status ->> 'transaction_status',
            record_refund.status ->> 'fraud_status', (record_refund.status ->> 'gross_amount')::numeric,
            r.transaction_id, record_refund.status ->> 'status_code', 'manual', record_refund.status, NULL,
            'status_api');
        SELECT * INTO o FROM payments.orders AS x WHERE x.id = r.order_id;
    END IF;
    IF r.goods <> '{}'::jsonb AND o.status = 'paid' THEN
        v_returned := payments_private.return_goods(o, r);
    ELSIF r.goods <> '{}'::jsonb THEN
        v_returned := jsonb_build_object('skipped', 'the order is ' || o.status || ': its goods followed the status');
    END IF;
    UPDATE payments.order_reviews AS v
       SET resolved_at = payments_private.clock(), resolution = 'dismiss', resolved_by = session_user,
           note = 'refund request ' || r.id || ' decided the goods'
     WHERE v.order_id = o.id AND v.reason = 'partial_refund' AND v.subject = r.transaction_id
       AND v.resolved_at IS NULL;
    GET DIAGNOSTICS v_closed = ROW_COUNT;
    IF v_closed > 0 THEN
        PERFORM payments_private.sync_needs_review(o.id);
    END IF;
    UPDATE payments.refund_requests
       SET state = 'succeeded', answer = payments_private.scrub_secrets(record_refund.answer), returned = v_returned,
           finished_at = payments_private.clock(), finished_by = session_user
     WHERE id = r.id;
    SELECT * INTO o FROM payments.orders AS x WHERE x.id = r.order_id;
    PERFORM payments_private.write_log(NULL, 'manual', 'refund_recorded', 'succeeded', o.order_number,
        r.transaction_id, record_refund.answer ->> 'transaction_status', NULL,
        record_refund.answer ->> 'status_code', r.amount, NULL,
        jsonb_build_object('request_id', r.id, 'refund_key', r.refund_key, 'amount', r.amount,
                           'refund_chargeback_id', record_refund.answer -> 'refund_chargeback_id',
                           'applied', v_applied ->> 'decision', 'returned', v_returned,
                           'reviews_closed', v_closed, 'actor', session_user, 'status', o.status),
        record_refund.answer, NULL);
    RETURN jsonb_build_object('request_id', r.id, 'order_number', o.order_number, 'transaction_id', r.transaction_id,
        'refund_key', r.refund_key, 'amount', r.amount, 'state', 'succeeded', 'status', o.status,
        'transaction_status', record_refund.answer ->> 'transaction_status',
        'applied', v_applied ->> 'decision', 'returned', v_returned, 'reviews_closed', v_closed,
        'needs_review', o.needs_review, 'actor', session_user);
END
$$;

COMMENT ON FUNCTION payments.record_refund(bigint, jsonb, jsonb) IS
    'Midtrans refunded: applies its status, returns the named goods, closes the request, in one transaction; PM020, PM024';

-- payments.close_refund_request(request_id, state, answer)
-- Midtrans refused the refund (`refused`: 412 not settled / not refundable /
-- window passed, 414 amount, 404, a direct refund the bank denied) or the
-- call failed for certain (`failed`: a validation answer). Only the request
-- changes (state, the scrubbed answer); logged.
CREATE OR REPLACE FUNCTION payments.close_refund_request(request_id bigint, state text, answer jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r payments.refund_requests;
    v_number text;
BEGIN
    IF close_refund_request.state IS NULL OR close_refund_request.state NOT IN ('refused', 'failed') THEN
        RAISE EXCEPTION 'state must be refused or failed, got %', quote_nullable(close_refund_request.state)
            USING ERRCODE = 'PM020';
    END IF;
    r := payments_private.lock_refund_request(close_refund_request.request_id);
    UPDATE payments.refund_requests AS x
       SET state = close_refund_request.state, answer = payments_private.scrub_secrets(close_refund_request.answer),
           finished_at = payments_private.clock(), finished_by = session_user
     WHERE x.id = r.id;
    SELECT o.order_number INTO v_number FROM payments.orders AS o WHERE o.id = r.order_id;
    PERFORM payments_private.write_log(NULL, 'manual', 'refund_' || close_refund_request.state,
        close_refund_request.state, v_number, r.transaction_id, NULL, NULL,
        close_refund_request.answer ->> 'status_code', r.amount, NULL,
        jsonb_build_object('request_id', r.id, 'refund_key', r.refund_key, 'amount', r.amount,
                           'status_message', left(close_refund_request.answer ->> 'status_message', 300),
                           'actor', session_user),
        close_refund_request.answer, NULL);
    RETURN jsonb_build_object('request_id', r.id, 'order_number', v_number, 'transaction_id', r.transaction_id,
        'refund_key', r.refund_key, 'amount', r.amount, 'state', close_refund_request.state,
        'status_code', close_refund_request.answer ->> 'status_code',
        'status_message', left(close_refund_request.answer ->> 'status_message', 300), 'actor', session_user);
END
$$;

COMMENT ON FUNCTION payments.close_refund_request(bigint, text, jsonb) IS
    'Midtrans refused a refund request, or its call failed for certain: only the request changes; PM020, PM024';
