-- The product's clock (migration 0006): payments_private.clock() and
-- wall_clock() are now() / clock_timestamp() plus payments.clock.ahead_by.
-- Production never moves it (ahead_by stays 0); tests and the demo move it
-- forward with advance_clock instead of waiting for an expiry.

-- payments.clock_now()
-- The time the product runs on (now() + ahead_by): what expires_at is
-- compared with. A shop or test that computes expires_at while the clock may
-- be ahead adds its hold to this, not to its own clock.
CREATE OR REPLACE FUNCTION payments.clock_now()
RETURNS timestamptz
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$ SELECT payments_private.clock() $$;

COMMENT ON FUNCTION payments.clock_now() IS
    'The product''s now(): transaction time plus payments.clock.ahead_by (0 in production)';

-- payments.advance_clock(by)
-- Moves the product's clock forward by `by` (> 0) for every session, as if
-- that much time had passed: orders expire, sync finds them due, leases and
-- alert windows run out, retention ages logs. Transactional (a rollback
-- undoes it); concurrent calls queue on the payments.clock row. The clock
-- never moves back: NULL, zero or a negative `by` raises PM016. Granted to
-- no role: only the schema owner (who runs `payments migrate`) and
-- superusers may call it, i.e. tests and the demo; never call it on a
-- production database. Returns the new clock_now().
CREATE OR REPLACE FUNCTION payments.advance_clock(by interval)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
DECLARE
    v_ahead interval;
BEGIN
    IF advance_clock.by IS NULL OR advance_clock.by <= interval '0' THEN
        RAISE EXCEPTION 'the clock only moves forward: by must be > 0, got %', quote_nullable(advance_clock.by)
            USING ERRCODE = 'PM016';
    END IF;
    UPDATE payments.clock AS c
       SET ahead_by = c.ahead_by + advance_clock.by, moved_at = clock_timestamp(), moved_by = session_user
     WHERE c.one
    RETURNING c.ahead_by INTO v_ahead;
    IF NOT FOUND THEN   -- the row was deleted by hand: the offset in effect is the base
        INSERT INTO payments.clock (one, ahead_by, moved_at, moved_by)
        VALUES (true, payments_private.clock_offset() + advance_clock.by, clock_timestamp(), session_user)
        RETURNING ahead_by INTO v_ahead;
    END IF;
    EXECUTE format('CREATE OR REPLACE FUNCTION payments_private.clock_offset() RETURNS interval'
                   ' LANGUAGE sql STABLE PARALLEL SAFE AS %L',
                   format('SELECT %L::interval', v_ahead));
    RETURN payments_private.clock();
END
$$;

COMMENT ON FUNCTION payments.advance_clock(interval) IS
    'Tests and demo only (granted to no role): moves the product''s clock forward by an interval > 0 (PM016 otherwise)';
