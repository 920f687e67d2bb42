-- Fixtures shared by the pgTAP files (loaded into the test template only).
CREATE SCHEMA IF NOT EXISTS test_helpers;

-- a ticket slot with the given capacity; returns its id
CREATE OR REPLACE FUNCTION test_helpers.slot(code text, capacity integer DEFAULT 10)
RETURNS bigint LANGUAGE sql AS $$
    SELECT s.id FROM payments.create_ticket_slot(slot.code, slot.capacity) AS s
$$;

-- a product variant with the given stock; returns its id
CREATE OR REPLACE FUNCTION test_helpers.variant(sku text, stock integer DEFAULT 10)
RETURNS bigint LANGUAGE sql AS $$
    SELECT v.id FROM payments.create_product_variant(variant.sku, variant.stock) AS v
$$;

-- a pending ticket order for one slot (100000.00 per order by default)
CREATE OR REPLACE FUNCTION test_helpers.ticket_order(
    order_number text, slot_code text, quantity integer DEFAULT 2, amount numeric DEFAULT 100000)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT payments.create_ticket_order(ticket_order.order_number,
        jsonb_build_array(jsonb_build_object('slot', ticket_order.slot_code,
                                             'quantity', ticket_order.quantity)),
        payments.clock_now() + interval '1 hour', ticket_order.amount)
$$;

-- a pending product order for one variant
CREATE OR REPLACE FUNCTION test_helpers.product_order(
    order_number text, sku text, quantity integer DEFAULT 1, amount numeric DEFAULT 75000)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT payments.create_product_order(product_order.order_number,
        jsonb_build_array(jsonb_build_object('sku', product_order.sku,
                                             'quantity', product_order.quantity)),
        payments.clock_now() + interval '1 hour', product_order.amount)
$$;

-- the status_code Midtrans sends with a status in a notification (and the
-- Status API mirrors); unknown statuses get '200'
CREATE OR REPLACE FUNCTION test_helpers.code_for(transaction_status text, fraud_status text DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE lower(code_for.transaction_status)
        WHEN 'capture' THEN CASE coalesce(lower(code_for.fraud_status), 'accept')
                                 WHEN 'challenge' THEN '201' WHEN 'deny' THEN '202' ELSE '200' END
        WHEN 'pending' THEN '201'
        WHEN 'deny' THEN '202' WHEN 'cancel' THEN '202' WHEN 'expire' THEN '202' WHEN 'failure' THEN '202'
        ELSE '200' END
$$;

-- a Midtrans event for an order, with the order's own amount unless given
CREATE OR REPLACE FUNCTION test_helpers.gateway(
    order_number text, transaction_status text, fraud_status text DEFAULT NULL,
    transaction_id text DEFAULT 'tx-1', amount numeric DEFAULT NULL, source text DEFAULT 'webhook')
RETURNS jsonb LANGUAGE sql AS $$
    SELECT payments.apply_gateway_status(gateway.order_number, gateway.transaction_status,
        gateway.fraud_status,
        coalesce(gateway.amount, (SELECT o.gross_amount FROM payments.orders AS o
                                   WHERE o.order_number = gateway.order_number)),
        gateway.transaction_id, test_helpers.code_for(gateway.transaction_status, gateway.fraud_status),
        gateway.source, '{}'::jsonb)
$$;

CREATE OR REPLACE FUNCTION test_helpers.status(order_number text)
RETURNS text LANGUAGE sql AS $$
    SELECT o.status FROM payments.orders AS o WHERE o.order_number = status.order_number
$$;

CREATE OR REPLACE FUNCTION test_helpers.review(order_number text)
RETURNS text LANGUAGE sql AS $$
    -- every open review reason of the order, sorted and comma-separated; NULL when none
    SELECT string_agg(DISTINCT v.reason, ',' ORDER BY v.reason)
      FROM payments.order_reviews AS v
      JOIN payments.orders AS o ON o.id = v.order_id
     WHERE o.order_number = review.order_number AND v.resolved_at IS NULL
$$;

CREATE OR REPLACE FUNCTION test_helpers.active_tickets(order_number text)
RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM payments.tickets AS t
      JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id
      JOIN payments.orders AS o ON o.id = i.order_id
     WHERE o.order_number = active_tickets.order_number AND t.status = 'active'
$$;

CREATE OR REPLACE FUNCTION test_helpers.all_tickets(order_number text)
RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM payments.tickets AS t
      JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id
      JOIN payments.orders AS o ON o.id = i.order_id
     WHERE o.order_number = all_tickets.order_number
$$;

-- 'reserved/sold' of a slot, e.g. '2/0'
CREATE OR REPLACE FUNCTION test_helpers.slot_counts(code text)
RETURNS text LANGUAGE sql AS $$
    SELECT s.reserved || '/' || s.sold FROM payments.ticket_slots AS s WHERE s.code = slot_counts.code
$$;

-- 'reserved_stock/sold' of a variant, e.g. '1/0'
CREATE OR REPLACE FUNCTION test_helpers.variant_counts(sku text)
RETURNS text LANGUAGE sql AS $$
    SELECT v.reserved_stock || '/' || v.sold FROM payments.product_variants AS v
     WHERE v.sku = variant_counts.sku
$$;

-- the decisions logged for an order, oldest first
CREATE OR REPLACE FUNCTION test_helpers.decisions(order_number text)
RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(l.outcome ORDER BY l.id), '{}')
      FROM payments.webhook_logs AS l
     WHERE l.order_number = decisions.order_number AND l.event_type = 'gateway_status'
$$;

-- the order row itself, e.g. (test_helpers.ord('T-1')).tickets_issued_at
CREATE OR REPLACE FUNCTION test_helpers.ord(order_number text)
RETURNS payments.orders LANGUAGE sql AS $$
    SELECT o.* FROM payments.orders AS o WHERE o.order_number = ord.order_number
$$;

-- simulate foreign code / a broken state: set an order's status without any side-effect
CREATE OR REPLACE FUNCTION test_helpers.force_status(order_number text, status text)
RETURNS void LANGUAGE sql AS $$
    UPDATE payments.orders AS o SET status = force_status.status, updated_at = now()
     WHERE o.order_number = force_status.order_number
$$;

-- codes of an order's active tickets, in (item, seq) order
CREATE OR REPLACE FUNCTION test_helpers.ticket_codes(order_number text)
RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(t.code ORDER BY i.id, t.seq), '{}')
      FROM payments.tickets AS t
      JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id
      JOIN payments.orders AS o ON o.id = i.order_id
     WHERE o.order_number = ticket_codes.order_number AND t.status = 'active'
$$;

-- seq numbers of an order's active tickets, in (item, seq) order
CREATE OR REPLACE FUNCTION test_helpers.ticket_seqs(order_number text)
RETURNS integer[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(t.seq ORDER BY i.id, t.seq), '{}')
      FROM payments.tickets AS t
      JOIN payments.ticket_order_items AS i ON i.id = t.order_item_id
      JOIN payments.orders AS o ON o.id = i.order_id
     WHERE o.order_number = ticket_seqs.order_number AND t.status = 'active'
$$;

-- outcomes logged for an order under one event_type, oldest first
CREATE OR REPLACE FUNCTION test_helpers.outcomes(order_number text, event_type text)
RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(l.outcome ORDER BY l.id), '{}')
      FROM payments.webhook_logs AS l
     WHERE l.order_number IS NOT DISTINCT FROM outcomes.order_number
       AND l.event_type = outcomes.event_type
$$;

-- sum of finalized_quantity over an order's items (either kind)
CREATE OR REPLACE FUNCTION test_helpers.finalized(order_number text)
RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce((SELECT sum(i.finalized_quantity) FROM payments.ticket_order_items AS i
                       JOIN payments.orders AS o ON o.id = i.order_id
                      WHERE o.order_number = finalized.order_number), 0)
         + coalesce((SELECT sum(i.finalized_quantity) FROM payments.product_order_items AS i
                       JOIN payments.orders AS o ON o.id = i.order_id
                      WHERE o.order_number = finalized.order_number), 0)
$$;

-- everything that must converge, whatever the delivery order of gateway events:
-- status, active tickets, finalized quantity, whether the order is fulfilled
-- (tickets issued / pickup code + stock confirmed, and not released) and
-- whether it has released what it held
CREATE OR REPLACE FUNCTION test_helpers.fingerprint(order_number text)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'status', o.status,
        'active_tickets', test_helpers.active_tickets(o.order_number),
        'finalized', test_helpers.finalized(o.order_number),
        'fulfilled', CASE o.kind
                     WHEN 'ticket' THEN o.tickets_issued_at IS NOT NULL AND o.capacity_released_at IS NULL
                     ELSE o.pickup_code IS NOT NULL AND o.stock_confirmed_at IS NOT NULL
                          AND o.stock_released_at IS NULL END,
        'released', coalesce(o.capacity_released_at, o.stock_released_at) IS NOT NULL,
        'open_reviews', test_helpers.review(o.order_number))
      FROM payments.orders AS o WHERE o.order_number = fingerprint.order_number
$$;

-- move an order's timestamps a day into the past: inside one test transaction
-- now() never changes, so this is what makes "the marker was not set again"
-- observable
CREATE OR REPLACE FUNCTION test_helpers.backdate(order_number text)
RETURNS void LANGUAGE sql AS $$
    UPDATE payments.orders AS o
       SET paid_at = o.paid_at - interval '1 day',
           tickets_issued_at = o.tickets_issued_at - interval '1 day',
           capacity_released_at = o.capacity_released_at - interval '1 day',
           stock_confirmed_at = o.stock_confirmed_at - interval '1 day',
           stock_released_at = o.stock_released_at - interval '1 day'
     WHERE o.order_number = backdate.order_number
$$;

-- ---------------------------------------------------------------------------
-- The money ledger (migration 0004)

-- a Midtrans event with a body (e.g. settlement_time, refunds[].created_at,
-- refund_amount), otherwise like test_helpers.gateway
CREATE OR REPLACE FUNCTION test_helpers.gateway_with(
    order_number text, transaction_status text, fraud_status text, transaction_id text,
    payload jsonb, amount numeric DEFAULT NULL, source text DEFAULT 'webhook')
RETURNS jsonb LANGUAGE sql AS $$
    SELECT payments.apply_gateway_status(gateway_with.order_number, gateway_with.transaction_status,
        gateway_with.fraud_status,
        coalesce(gateway_with.amount, (SELECT o.gross_amount FROM payments.orders AS o
                                        WHERE o.order_number = gateway_with.order_number)),
        gateway_with.transaction_id, test_helpers.code_for(gateway_with.transaction_status, gateway_with.fraud_status),
        gateway_with.source, gateway_with.payload)
$$;

-- one ledger row of an order, e.g. (test_helpers.tx('T-1', 'tx-1')).stage
CREATE OR REPLACE FUNCTION test_helpers.tx(order_number text, transaction_id text)
RETURNS payments.gateway_transactions LANGUAGE sql AS $$
    SELECT t.* FROM payments.gateway_transactions AS t
      JOIN payments.orders AS o ON o.id = t.order_id
     WHERE o.order_number = tx.order_number AND t.transaction_id = tx.transaction_id
$$;

-- an order's ledger as 'transaction_id:stage' sorted by transaction_id,
-- e.g. 'tx-1:22,tx-2:30'; NULL when empty
CREATE OR REPLACE FUNCTION test_helpers.ledger(order_number text)
RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(t.transaction_id || ':' || t.stage, ',' ORDER BY t.transaction_id)
      FROM payments.gateway_transactions AS t
      JOIN payments.orders AS o ON o.id = t.order_id
     WHERE o.order_number = ledger.order_number
$$;

-- every open review of an order as 'reason:subject', sorted, comma-separated
-- (subject '' for the order as a whole: 'duplicate_payment:'); NULL when none
CREATE OR REPLACE FUNCTION test_helpers.open_reviews(order_number text)
RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(v.reason || ':' || v.subject, ',' ORDER BY v.reason, v.subject)
      FROM payments.order_reviews AS v
      JOIN payments.orders AS o ON o.id = v.order_id
     WHERE o.order_number = open_reviews.order_number AND v.resolved_at IS NULL
$$;

-- how a review of an order was closed ('auto', 'dismiss', ...), 'open' while
-- open, NULL when it was never opened
CREATE OR REPLACE FUNCTION test_helpers.review_state(order_number text, reason text, subject text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(v.resolution, 'open')
      FROM payments.order_reviews AS v
      JOIN payments.orders AS o ON o.id = v.order_id
     WHERE o.order_number = review_state.order_number AND v.reason = review_state.reason
       AND (review_state.subject IS NULL OR v.subject = review_state.subject)
     ORDER BY v.id DESC LIMIT 1
$$;

-- the ledger says an order is paid (a settlement of tx) and its status says
-- so, but the pay effect never ran (what foreign code or a lost effect leaves)
CREATE OR REPLACE FUNCTION test_helpers.paid_without_goods(order_number text, tx text DEFAULT 'tx-1')
RETURNS void LANGUAGE sql AS $$
    INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount,
                                               seen_paid)
    SELECT o.id, paid_without_goods.tx, 'settlement', 22, o.gross_amount, true
      FROM payments.orders AS o WHERE o.order_number = paid_without_goods.order_number;
    UPDATE payments.orders SET status = 'paid', paid_at = now() WHERE order_number = paid_without_goods.order_number;
$$;

-- the ledger closed an order's window (cancel -> failed, expire -> expired) and
-- its status says so, but the release effect never ran
CREATE OR REPLACE FUNCTION test_helpers.closed_without_release(order_number text, transaction_status text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO payments.gateway_transactions (order_id, transaction_id, transaction_status, stage, gross_amount)
    SELECT o.id, 'tx-closed', closed_without_release.transaction_status,
           payments.transaction_stage(closed_without_release.transaction_status), o.gross_amount
      FROM payments.orders AS o WHERE o.order_number = closed_without_release.order_number;
    UPDATE payments.orders
       SET status = CASE closed_without_release.transaction_status WHEN 'cancel' THEN 'failed' ELSE 'expired' END
     WHERE order_number = closed_without_release.order_number;
$$;

-- CALL payments.reconcile_local without its COMMITs (a pgTAP file is one
-- transaction): one reconcile run, reconcile_step until nothing is left
-- (orders whose repair failed are skipped, as the procedure does), finish_run
CREATE OR REPLACE FUNCTION test_helpers.reconcile_all(source text DEFAULT 'reconcile', batch_size integer DEFAULT 500)
RETURNS payments.runs LANGUAGE plpgsql AS $$
DECLARE
    v_run bigint := payments.start_run('reconcile', reconcile_all.source);
    v_step jsonb;
    v_skip bigint[] := '{}';
BEGIN
    FOR i IN 1 .. reconcile_all.batch_size LOOP
        v_step := payments.reconcile_step(v_skip, reconcile_all.source, v_run);
        EXIT WHEN v_step IS NULL;
        IF v_step ->> 'outcome' = 'error' THEN
            v_skip := v_skip || (v_step ->> 'order_id')::bigint;
        END IF;
    END LOOP;
    RETURN payments.finish_run(v_run);
END
$$;
