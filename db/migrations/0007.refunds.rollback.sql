-- Rollback of 0007: the refund requests and their functions go. Fails while
-- an item has had every unit returned (quantity 0) or a review is resolved
-- refunded_in_dashboard: those facts have no place in the previous release.
DROP FUNCTION IF EXISTS payments.request_refund(text, numeric, text, text, jsonb);
DROP FUNCTION IF EXISTS payments.record_refund(bigint, jsonb, jsonb);
DROP FUNCTION IF EXISTS payments.close_refund_request(bigint, text, jsonb);
DROP FUNCTION IF EXISTS payments_private.return_goods(payments.orders, payments.refund_requests);
DROP FUNCTION IF EXISTS payments_private.refund_goods(payments.orders, jsonb);
DROP FUNCTION IF EXISTS payments_private.lock_refund_request(bigint);
DROP TABLE payments.refund_requests;
ALTER TABLE payments.ticket_order_items DROP CONSTRAINT ticket_order_items_quantity_check,
    ADD CONSTRAINT ticket_order_items_quantity_check CHECK (quantity > 0);
ALTER TABLE payments.product_order_items DROP CONSTRAINT product_order_items_quantity_check,
    ADD CONSTRAINT product_order_items_quantity_check CHECK (quantity > 0);
ALTER TABLE payments.order_reviews DROP CONSTRAINT order_reviews_resolution_check,
    ADD CONSTRAINT order_reviews_resolution_check CHECK (resolution IN ('accept', 'refund', 'dismiss', 'auto'));
