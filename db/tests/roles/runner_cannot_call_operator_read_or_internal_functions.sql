-- Rule: payments_runner cannot call what people do (resolve_review,
-- repair_counter_drift), the readers' functions, nor any internal function of
-- payments_private: 42501, nothing changes.
BEGIN;
SELECT plan(15);

SELECT test_helpers.slot('S1', 10);
SELECT test_helpers.ticket_order('T-1', 'S1', 2);
SELECT test_helpers.gateway('T-1', 'settlement', NULL, 'tx-1'), test_helpers.gateway('T-1', 'chargeback', NULL, 'tx-1');

SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc AS p
                   WHERE p.pronamespace = 'payments_private'::regnamespace
                     AND has_function_privilege('payments_runner', p.oid, 'EXECUTE')$$,
                'no payments_private function is executable by the runner');
SELECT ok(NOT has_schema_privilege('payments_runner', 'payments_private', 'USAGE'),
          'nor may it use the payments_private schema');

-- calls every payments_private function with NULL arguments; returns those
-- whose call did not fail with 42501 (insufficient privilege)
CREATE FUNCTION pg_temp.private_calls_not_denied() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    f record;
    v_state text;
    v_allowed text[] := '{}';
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig, p.proname,
                    (SELECT string_agg('NULL::' || format_type(t, NULL), ', ' ORDER BY n)
                       FROM unnest(p.proargtypes) WITH ORDINALITY AS a (t, n)) AS args
               FROM pg_proc AS p WHERE p.pronamespace = 'payments_private'::regnamespace LOOP
        BEGIN
            EXECUTE format('SELECT payments_private.%I(%s)', f.proname, coalesce(f.args, ''));
            v_state := '00000';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
        END;
        IF v_state <> '42501' THEN
            v_allowed := v_allowed || (f.sig::text || ': ' || v_state);
        END IF;
    END LOOP;
    RETURN v_allowed;
END
$$;

SET LOCAL ROLE payments_runner;
SELECT is(pg_temp.private_calls_not_denied(), '{}'::text[],
          'every payments_private function, called by the runner, raises 42501');
SELECT throws_ok($$SELECT payments.resolve_review('T-1', 'chargeback', 'dismiss')$$, '42501', NULL,
                 'resolve_review is for people');
SELECT throws_ok($$SELECT * FROM payments.repair_counter_drift()$$, '42501', NULL,
                 'repair_counter_drift is for people');
SELECT throws_ok($$SELECT * FROM payments.check_invariants()$$, '42501', NULL, 'check_invariants is for readers');
SELECT throws_ok($$SELECT * FROM payments.find_mismatches()$$, '42501', NULL, 'find_mismatches is for readers');
SELECT throws_ok($$SELECT * FROM payments.counter_drift()$$, '42501', NULL, 'counter_drift is for readers');
SELECT throws_ok($$SELECT payments.order_summary('T-1')$$, '42501', NULL, 'order_summary is for readers');
SELECT throws_ok($$SELECT payments_private.lock_order('T-1')$$, '42501', NULL, 'lock_order is internal');
SELECT throws_ok($$SELECT payments_private.random_code(8)$$, '42501', NULL, 'random_code is internal');
SELECT throws_ok($$SELECT payments_private.pay_goods(NULL::payments.orders)$$, '42501', NULL, 'pay_goods is internal');
SELECT throws_ok($$SELECT payments_private.write_log(NULL, 'webhook', 'gateway_status', 'paid', 'T-1', 'tx-9',
                                                     'settlement', NULL, '200', 100000, true, '{}', NULL, NULL)$$,
                 '42501', NULL, 'write_log is internal');
RESET ROLE;

SELECT is(test_helpers.review('T-1'), 'chargeback', 'the review is still open');
SELECT is(test_helpers.outcomes('T-1', 'gateway_status'), ARRAY['paid', 'flagged'], 'no decision was added');

SELECT * FROM finish();
ROLLBACK;
