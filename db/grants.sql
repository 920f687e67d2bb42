-- Applied by `payments migrate` after db/functions/ and db/views/. Four roles:
--   payments_runner        the runner and the shop's backend: exactly the
--                          functions runner/queries.sql calls, plus creating
--                          orders; no table access
--   payments_operator      people acting on reviews and repairs (and all a
--                          reader may do)
--   payments_readonly      DBAs and dashboards: every table and audit view,
--                          except bearer codes, and the read functions
--   payments_bearer_codes  the only role that reads ticket codes and pickup
--                          codes (what a customer shows to get in or collect)
-- The internal functions and scratch tables (schema payments_private) are
-- granted to nobody.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA payments FROM PUBLIC;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA payments FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA payments_private FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA payments
    FROM payments_runner, payments_readonly, payments_operator, payments_bearer_codes;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA payments
    FROM payments_runner, payments_readonly, payments_operator, payments_bearer_codes;
REVOKE ALL ON ALL TABLES IN SCHEMA payments
    FROM PUBLIC, payments_runner, payments_readonly, payments_operator, payments_bearer_codes;
REVOKE ALL ON ALL TABLES IN SCHEMA payments_private
    FROM PUBLIC, payments_runner, payments_readonly, payments_operator, payments_bearer_codes;
GRANT USAGE ON SCHEMA payments TO payments_runner, payments_readonly, payments_operator, payments_bearer_codes;

-- the runner: what runner/queries.sql calls (a test keeps the two equal), the
-- shop's order functions, and recent_runs for `payments runs` where the runner's
-- login is configured (its own run history: totals and errors, no order data)
GRANT EXECUTE ON FUNCTION
    payments.create_ticket_order(text, jsonb, timestamptz, numeric, text),
    payments.create_product_order(text, jsonb, timestamptz, numeric, text),
    payments.apply_gateway_status(text, text, text, numeric, text, text, text, jsonb, bigint, text, boolean),
    payments.apply_status_not_found(text, text, interval, bigint),
    payments.expire_order(text, text, interval, boolean, bigint, jsonb),
    payments.log_rejection(text, text, jsonb, jsonb, text, text),
    payments.start_sync(interval, interval, integer, text[]),
    payments.start_run(text, text),
    payments.run_failed(bigint, text, text),
    payments.finish_run(bigint, jsonb, text),
    payments.orders_past_expiry(interval, integer),
    payments.reconcile_step(bigint[], text, bigint),
    payments.prune_logs(integer, text),
    payments.last_runs(),
    payments.recent_runs(integer),
    payments.alerts(),
    payments.acquire_lease(text, text, interval),
    payments.renew_lease(text, text, interval),
    payments.release_lease(text, text),
    payments.begin_checkout(text, text, jsonb, interval, numeric, text, text, interval),
    payments.finish_checkout(text, text, text, text),
    payments.abandon_checkout(text, text, text)
TO payments_runner;
GRANT EXECUTE ON PROCEDURE payments.reconcile_local(integer, text, bigint, jsonb) TO payments_runner;

-- readers: the read functions
GRANT EXECUTE ON FUNCTION
    payments.transaction_stage(text, text),
    payments.status_code_documented(text, text, text, text),
    payments.find_mismatches(integer, interval),
    payments.check_invariants(),
    payments.counter_drift(),
    payments.last_runs(),
    payments.recent_runs(integer),
    payments.alerts(),
    payments.order_timeline(text),
    payments.order_summary(text),
    payments.open_reviews(text)
TO payments_readonly;

-- operators: everything a reader may, and the actions of people. Granting a
-- role needs ADMIN OPTION on it (PostgreSQL 16+; CREATEROLE is enough on 15),
-- which an owner that did not create payments_readonly may lack: grant only
-- when missing, so a superuser may have done it once when creating the roles.
DO $$
BEGIN
    IF NOT pg_catalog.pg_has_role('payments_operator', 'payments_readonly', 'USAGE') THEN
        GRANT payments_readonly TO payments_operator;
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION
    payments.resolve_review(text, text, text, text, text),
    payments.repair_counter_drift(text),
    payments.expire_order(text, text, interval, boolean, bigint, jsonb),
    payments.start_run(text, text),
    payments.reconcile_step(bigint[], text, bigint),
    payments.finish_run(bigint, jsonb, text),
    payments.prune_logs(integer, text)
TO payments_operator;
GRANT EXECUTE ON PROCEDURE payments.reconcile_local(integer, text, bigint, jsonb) TO payments_operator;
-- operators: refunds asked of Midtrans (payments refund / resolve --refund);
-- the runner role gets none of them
GRANT EXECUTE ON FUNCTION
    payments.request_refund(text, numeric, text, text, jsonb),
    payments.record_refund(bigint, jsonb, jsonb),
    payments.close_refund_request(bigint, text, jsonb)
TO payments_operator;
GRANT UPDATE (value) ON payments.settings TO payments_operator;
GRANT UPDATE (threshold, "window") ON payments.alert_thresholds TO payments_operator;
-- operators' actions at Midtrans (`payments capture | approve | deny | cancel`):
-- recorded with session_user, Midtrans' answer applied through
-- apply_gateway_status; the runner has no part in it
GRANT EXECUTE ON FUNCTION payments.record_operator_action(text, text, text, jsonb, numeric, text)
TO payments_operator;

-- readers see every table and view, bearer codes excepted (column privileges,
-- built from the catalog so a new column is readable by default); a checkout's
-- Snap token and redirect URL open the customer's payment page: not for readers
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.relname, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols
          FROM pg_catalog.pg_class AS c
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = 'payments' AND c.relkind IN ('r', 'v', 'p')
           AND (c.relname, a.attname) NOT IN (('tickets', 'code'), ('orders', 'pickup_code'),
                                            ('checkouts', 'snap_token'), ('checkouts', 'redirect_url'))
         GROUP BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT (%s) ON payments.%I TO payments_readonly', r.cols, r.relname);
    END LOOP;
END
$$;
GRANT SELECT (id, order_item_id, code, status) ON payments.tickets TO payments_bearer_codes;
GRANT SELECT (id, order_number, pickup_code, status) ON payments.orders TO payments_bearer_codes;

-- the clock (migration 0006): readers (and so operators, and the audit views
-- they read) may ask what time the product runs on; nobody may move it
-- (payments.advance_clock is for the owner, i.e. tests and the demo)
GRANT EXECUTE ON FUNCTION payments.clock_now() TO payments_readonly;

-- the catalog (migration 0006): operators create slots / variants and change
-- capacity / stock (each change logged in payments.catalog_changes, which
-- readers see); the runner does not
GRANT EXECUTE ON FUNCTION
    payments.create_ticket_slot(text, integer, timestamptz, text),
    payments.create_product_variant(text, integer, text, text),
    payments.change_capacity(text, integer, text),
    payments.change_stock(text, integer, text)
TO payments_operator;
