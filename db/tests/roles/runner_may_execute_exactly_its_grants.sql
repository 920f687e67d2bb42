-- Rule: payments_runner may execute exactly what runner/queries.sql calls, the
-- shop's order functions and recent_runs (`payments runs`; db/grants.sql),
-- nothing else in payments or payments_private.
BEGIN;
SELECT plan(1);

SELECT results_eq($$SELECT p.oid::regprocedure::text FROM pg_proc AS p
                     WHERE p.pronamespace IN ('payments'::regnamespace, 'payments_private'::regnamespace)
                       AND has_function_privilege('payments_runner', p.oid, 'EXECUTE')
                     ORDER BY 1$$,
                  $$VALUES ('payments.abandon_checkout(text,text,text)'),
                           ('payments.acquire_lease(text,text,interval)'),
                           ('payments.alerts()'),
                           ('payments.apply_gateway_status(text,text,text,numeric,text,text,text,jsonb,bigint,text,boolean)'),
                           ('payments.apply_status_not_found(text,text,interval,bigint)'),
                           ('payments.begin_checkout(text,text,jsonb,interval,numeric,text,text,interval)'),
                           ('payments.create_product_order(text,jsonb,timestamp with time zone,numeric,text)'),
                           ('payments.create_ticket_order(text,jsonb,timestamp with time zone,numeric,text)'),
                           ('payments.expire_order(text,text,interval,boolean,bigint,jsonb)'),
                           ('payments.finish_checkout(text,text,text,text)'),
                           ('payments.finish_run(bigint,jsonb,text)'),
                           ('payments.last_runs()'),
                           ('payments.log_rejection(text,text,jsonb,jsonb,text,text)'),
                           ('payments.orders_past_expiry(interval,integer)'),
                           ('payments.prune_logs(integer,text)'),
                           ('payments.recent_runs(integer)'),
                           ('payments.reconcile_local(integer,text,bigint,jsonb)'),
                           ('payments.reconcile_step(bigint[],text,bigint)'),
                           ('payments.release_lease(text,text)'),
                           ('payments.renew_lease(text,text,interval)'),
                           ('payments.run_failed(bigint,text,text)'),
                           ('payments.start_run(text,text)'),
                           ('payments.start_sync(interval,interval,integer,text[])')$$,
                  'the runner''s functions, and nothing else');

SELECT * FROM finish();
ROLLBACK;
