-- Rule: no production role (runner, operator, readonly, bearer codes) can
-- move the product's clock: advance_clock is granted to none (42501), they
-- cannot write payments.clock nor redefine the offset. Readers (so operators
-- and the audit views) may read the time with clock_now().
BEGIN;
SELECT plan(13);

SELECT is_empty($$SELECT r.rolname FROM (VALUES ('payments_runner'), ('payments_operator'), ('payments_readonly'),
                                               ('payments_bearer_codes')) AS r (rolname)
                   WHERE has_function_privilege(r.rolname, 'payments.advance_clock(interval)', 'EXECUTE')
                      OR has_table_privilege(r.rolname, 'payments.clock', 'INSERT, UPDATE, DELETE, TRUNCATE')
                      OR has_schema_privilege(r.rolname, 'payments_private', 'CREATE, USAGE')$$,
                'no production role may execute advance_clock, write payments.clock or use payments_private');

CREATE FUNCTION pg_temp.tries(role text, statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_state text := '00000';
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    BEGIN
        EXECUTE statement;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
    END;
    RESET ROLE;
    RETURN v_state;
END
$$;

SELECT is(pg_temp.tries(r, $$SELECT payments.advance_clock('1 hour')$$), '42501', r || ' cannot advance the clock')
  FROM unnest(ARRAY['payments_runner', 'payments_operator', 'payments_readonly', 'payments_bearer_codes']) AS r;
SELECT is(pg_temp.tries(r, $$UPDATE payments.clock SET ahead_by = '1 hour'$$), '42501',
          r || ' cannot write payments.clock')
  FROM unnest(ARRAY['payments_runner', 'payments_operator', 'payments_readonly', 'payments_bearer_codes']) AS r;
SELECT is(pg_temp.tries('payments_operator',
                        $$CREATE OR REPLACE FUNCTION payments_private.clock_offset() RETURNS interval
                          LANGUAGE sql STABLE AS 'SELECT interval ''1 hour'''$$),
          '42501', 'an operator cannot redefine the offset');
SELECT is(pg_temp.tries('payments_readonly', $$SELECT payments.clock_now()$$), '00000',
          'a reader may read the clock');
SELECT is(pg_temp.tries('payments_operator', $$SELECT * FROM payments.audit_recent_repairs$$), '00000',
          'an operator reads the audit view that asks the clock');
SELECT is(payments.clock_now(), now(), 'the clock has not moved');

SELECT * FROM finish();
ROLLBACK;
