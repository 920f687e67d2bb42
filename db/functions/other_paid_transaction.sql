-- payments.other_paid_transaction(order_id, transaction_id)
-- Another transaction of the order whose last word from Midtrans is a
-- completed payment (capture / settlement, fraud accepted or absent), if any:
-- when the paying transaction is reversed or refunded, the order stays paid by it.
CREATE OR REPLACE FUNCTION payments.other_paid_transaction(order_id bigint, transaction_id text)
RETURNS payments.gateway_transactions
LANGUAGE sql
STABLE
SET search_path = payments, pg_temp
AS $$
    SELECT t.*
      FROM payments.gateway_transactions AS t
     WHERE t.order_id = other_paid_transaction.order_id
       AND t.transaction_id <> other_paid_transaction.transaction_id
       AND t.transaction_status IN ('capture', 'settlement')
       AND coalesce(t.fraud_status, 'accept') = 'accept'
     ORDER BY t.updated_at DESC
     LIMIT 1
$$;

COMMENT ON FUNCTION payments.other_paid_transaction(bigint, text) IS
    'Another transaction of the order that is still a completed payment, or NULLs';
