-- payments_private.validate_order_header(order_number, expires_at, gross_amount, currency)
-- Shared input checks for create_ticket_order / create_product_order.
DROP FUNCTION IF EXISTS payments.validate_order_header(text, timestamptz, numeric, text);
CREATE OR REPLACE FUNCTION payments_private.validate_order_header(
    order_number text,
    expires_at timestamptz,
    gross_amount numeric,
    currency text
)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
#variable_conflict use_column
BEGIN
    IF validate_order_header.order_number IS NULL
       OR validate_order_header.order_number !~ '^[A-Za-z0-9._~-]{1,50}$'
       OR validate_order_header.order_number IN ('.', '..') THEN
        -- Midtrans' order_id alphabet; "." and ".." alone would be URL dot segments
        RAISE EXCEPTION 'order_number must be 1-50 characters of A-Z a-z 0-9 . _ ~ - and not "." or ".." (Midtrans order_id), got %',
            quote_nullable(left(validate_order_header.order_number, 60))
            USING ERRCODE = 'PM009';
    END IF;
    IF validate_order_header.expires_at IS NULL OR validate_order_header.expires_at <= payments_private.clock() THEN
        RAISE EXCEPTION 'expires_at must be in the future, got %',
            quote_nullable(validate_order_header.expires_at)
            USING ERRCODE = 'PM009';
    END IF;
    -- a hold is bounded (setting max_hold): an order expiring in the year 9999
    -- would keep the last seats forever
    IF validate_order_header.expires_at > payments_private.clock() + payments_private.setting('max_hold')::interval THEN
        RAISE EXCEPTION 'expires_at % is beyond the longest hold, max_hold = %',
            validate_order_header.expires_at, payments_private.setting('max_hold')
            USING ERRCODE = 'PM014';
    END IF;
    IF validate_order_header.gross_amount IS NULL OR validate_order_header.gross_amount <= 0
       OR validate_order_header.gross_amount >= 1e12
       OR validate_order_header.gross_amount <> round(validate_order_header.gross_amount, 2) THEN
        RAISE EXCEPTION 'gross_amount must be positive, below 1e12, with at most 2 decimals, got %',
            quote_nullable(validate_order_header.gross_amount)
            USING ERRCODE = 'PM009';
    END IF;
    IF validate_order_header.currency IS NULL OR validate_order_header.currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'currency must be a 3-letter ISO code, got %',
            quote_nullable(validate_order_header.currency)
            USING ERRCODE = 'PM009';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.validate_order_header(text, timestamptz, numeric, text) IS
    'Raises PM009 for a malformed order_number, expires_at, gross_amount or currency, PM014 for a hold beyond max_hold';

-- payments_private.parse_order_items(items, code_key, id_key)
-- Validates the items array of a create_*_order call and returns one row per
-- item: the referenced code or id, quantity and optional unit price.
DROP FUNCTION IF EXISTS payments.parse_order_items(jsonb, text, text);
CREATE OR REPLACE FUNCTION payments_private.parse_order_items(items jsonb, code_key text, id_key text)
RETURNS TABLE (ref_code text, ref_id bigint, quantity integer, unit_price numeric)
LANGUAGE plpgsql
IMMUTABLE
AS $$
#variable_conflict use_column
DECLARE
    item jsonb;
    item_no integer := 0;
    qty jsonb;
    price jsonb;
BEGIN
    IF parse_order_items.items IS NULL OR jsonb_typeof(parse_order_items.items) <> 'array'
       OR jsonb_array_length(parse_order_items.items) = 0 THEN
        RAISE EXCEPTION 'items must be a non-empty JSON array' USING ERRCODE = 'PM008';
    END IF;
    IF jsonb_array_length(parse_order_items.items) > 50 THEN
        RAISE EXCEPTION 'an order holds at most 50 items, got %',
            jsonb_array_length(parse_order_items.items)
            USING ERRCODE = 'PM008';
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(parse_order_items.items) LOOP
        item_no := item_no + 1;
        IF jsonb_typeof(item) <> 'object' THEN
            RAISE EXCEPTION 'item % must be a JSON object', item_no USING ERRCODE = 'PM008';
        END IF;
        ref_code := NULL;
        ref_id := NULL;
        IF jsonb_typeof(item -> code_key) = 'string' THEN
            ref_code := item ->> code_key;
        ELSIF jsonb_typeof(item -> id_key) = 'number'
              AND (item ->> id_key) ~ '^[0-9]{1,18}$' THEN
            ref_id := (item ->> id_key)::bigint;
        ELSE
            RAISE EXCEPTION 'item % needs "%" (string) or "%" (integer)', item_no, code_key, id_key
                USING ERRCODE = 'PM008';
        END IF;
        qty := item -> 'quantity';
        IF qty IS NULL OR jsonb_typeof(qty) <> 'number' OR (qty #>> '{}') !~ '^[0-9]{1,9}$'
           OR (qty #>> '{}')::integer NOT BETWEEN 1 AND 100 THEN
            RAISE EXCEPTION 'item % quantity must be an integer between 1 and 100, got %',
                item_no, coalesce(left(qty::text, 40), 'nothing')
                USING ERRCODE = 'PM007';
        END IF;
        quantity := (qty #>> '{}')::integer;
        price := item -> 'unit_price';
        unit_price := NULL;
        IF price IS NOT NULL AND jsonb_typeof(price) <> 'null' THEN
            -- at most 2 decimals, like gross_amount: the column would round it
            -- silently and the stored prices would no longer add up
            IF jsonb_typeof(price) <> 'number' OR (price #>> '{}')::numeric < 0
               OR (price #>> '{}')::numeric >= 1e12
               OR (price #>> '{}')::numeric <> round((price #>> '{}')::numeric, 2) THEN
                RAISE EXCEPTION 'item % unit_price must be a non-negative number with at most 2 decimals',
                    item_no
                    USING ERRCODE = 'PM008';
            END IF;
            unit_price := (price #>> '{}')::numeric;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION payments_private.parse_order_items(jsonb, text, text) IS
    'Validates an items array (PM008 malformed, PM007 bad quantity) and returns its rows';

-- payments_private.check_items_total(gross_amount, items)
-- When every item carries a unit_price, their sum must equal gross_amount.
DROP FUNCTION IF EXISTS payments.check_items_total(numeric, numeric, integer, integer);
CREATE OR REPLACE FUNCTION payments_private.check_items_total(gross_amount numeric, total numeric, priced integer, item_count integer)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
#variable_conflict use_column
BEGIN
    IF check_items_total.priced = check_items_total.item_count
       AND check_items_total.total <> check_items_total.gross_amount THEN
        RAISE EXCEPTION 'gross_amount % does not equal the sum of the items, %',
            check_items_total.gross_amount, check_items_total.total
            USING ERRCODE = 'PM009';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.check_items_total(numeric, numeric, integer, integer) IS
    'Raises PM009 when all items are priced and their sum differs from gross_amount';
