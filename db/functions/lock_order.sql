-- payments_private.lock_order(order_number, kind)
-- Locks and returns an order row (FOR UPDATE): the first lock every writer
-- takes, so all writers of one order are serialised (lock order: orders ->
-- items -> slots / variants by id). PM001 unknown order, PM010 wrong kind.
DROP FUNCTION IF EXISTS payments.lock_order(text, text);
CREATE OR REPLACE FUNCTION payments_private.lock_order(order_number text, kind text DEFAULT NULL)
RETURNS payments.orders
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    o payments.orders;
BEGIN
    SELECT * INTO o FROM payments.orders AS x
     WHERE x.order_number = lock_order.order_number
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown order %', quote_nullable(left(lock_order.order_number, 60))
            USING ERRCODE = 'PM001';
    END IF;
    IF lock_order.kind IS NOT NULL AND o.kind <> lock_order.kind THEN
        RAISE EXCEPTION 'order % is a % order, not a % order', o.order_number, o.kind, lock_order.kind
            USING ERRCODE = 'PM010';
    END IF;
    RETURN o;
END
$$;

COMMENT ON FUNCTION payments_private.lock_order(text, text) IS
    'Locks an order row FOR UPDATE and returns it; PM001 unknown order, PM010 wrong kind';
