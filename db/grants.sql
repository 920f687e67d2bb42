-- Applied by `payments migrate` after db/functions/: the runner role may only
-- EXECUTE the public SQL API; everything else stays private to the owner.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA payments FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA payments FROM payments_runner, payments_readonly;

GRANT EXECUTE ON FUNCTION
    payments.create_ticket_order(text, jsonb, timestamptz, numeric, text),
    payments.create_product_order(text, jsonb, timestamptz, numeric, text),
    payments.normalize_midtrans_status(text, text),
    payments.apply_gateway_status(text, text, text, numeric, text, text, text, jsonb, bigint, text, boolean),
    payments.apply_ticket_payment(text),
    payments.release_ticket_capacity(text),
    payments.apply_product_payment(text),
    payments.release_product_stock(text),
    payments.find_mismatches(integer, interval),
    payments.reconcile_local(integer, text, bigint),
    payments.check_invariants(),
    payments.resolve_review(text, text, text, text),
    payments.repair_counter_drift(text),
    payments.log_event(text, text, text, text, jsonb, jsonb, boolean, text, text, bigint),
    payments.start_run(text, text),
    payments.finish_run(bigint, jsonb, text),
    payments.orders_due_for_sync(interval, interval, integer),
    payments.orders_past_expiry(interval, integer),
    payments.apply_status_not_found(text, text, interval, bigint),
    payments.last_runs(),
    payments.alerts(),
    payments.order_timeline(text),
    payments.order_summary(text)
TO payments_runner;

GRANT EXECUTE ON FUNCTION
    payments.normalize_midtrans_status(text, text),
    payments.status_code_documented(text, text, text, text),
    payments.find_mismatches(integer, interval),
    payments.check_invariants(),
    payments.last_runs(),
    payments.alerts(),
    payments.order_timeline(text),
    payments.order_summary(text),
    payments.counter_drift()
TO payments_readonly;

-- audit views (re-created by migrate) are for the DBA's read-only role
GRANT SELECT ON ALL TABLES IN SCHEMA payments TO payments_readonly;
