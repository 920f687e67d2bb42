-- Rollback of 0003: the constraint goes; scrubbed signatures cannot come back.
ALTER TABLE payments.orders DROP CONSTRAINT IF EXISTS orders_order_number_not_dot_segment;
