-- Leases (payments.leases): one holder per runner job (sync, reconcile,
-- prune) across every runner process. Each verb is one statement the runner
-- sends in autocommit, so it needs no session state and works through a
-- transaction pooler. A holder is "host:pid:token", new for every run; a lease
-- not renewed before expires_at may be taken by anyone.

-- payments_private.require_lease(job, holder)
CREATE OR REPLACE FUNCTION payments_private.require_lease(job text, holder text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF require_lease.job IS NULL OR require_lease.job NOT IN ('sync', 'reconcile', 'prune') THEN
        RAISE EXCEPTION 'lease job must be sync, reconcile or prune, got %', quote_nullable(require_lease.job)
            USING ERRCODE = 'PM009';
    END IF;
    IF require_lease.holder IS NULL OR length(require_lease.holder) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'lease holder must be 1 to 200 characters' USING ERRCODE = 'PM009';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.require_lease(text, text) IS
    'Raises PM009 unless job is sync, reconcile or prune and holder is 1 to 200 characters';

-- payments_private.require_ttl(ttl)
CREATE OR REPLACE FUNCTION payments_private.require_ttl(ttl interval)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF require_ttl.ttl IS NULL OR require_ttl.ttl NOT BETWEEN interval '1 second' AND interval '1 hour' THEN
        RAISE EXCEPTION 'lease ttl must be between 1 second and 1 hour, got %', quote_nullable(require_ttl.ttl)
            USING ERRCODE = 'PM009';
    END IF;
END
$$;

COMMENT ON FUNCTION payments_private.require_ttl(interval) IS
    'Raises PM009 unless a lease ttl is between 1 second and 1 hour';

-- payments.acquire_lease(job, holder, ttl)
-- Takes the job's lease for ttl when nobody holds it, its holder let it
-- expire, or `holder` already holds it (then it is renewed). One row: whether
-- `holder` has it now, and who holds it until when (the other holder when
-- refused). Two callers at once: the row lock of ON CONFLICT decides, one wins.
CREATE OR REPLACE FUNCTION payments.acquire_lease(job text, holder text, ttl interval)
RETURNS TABLE (acquired boolean, held_by text, expires_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := payments_private.wall_clock();
BEGIN
    PERFORM payments_private.require_lease(acquire_lease.job, acquire_lease.holder);
    PERFORM payments_private.require_ttl(acquire_lease.ttl);
    RETURN QUERY
    INSERT INTO payments.leases AS l (job, holder, acquired_at, renewed_at, expires_at)
    VALUES (acquire_lease.job, acquire_lease.holder, v_now, v_now, v_now + acquire_lease.ttl)
    ON CONFLICT (job) DO UPDATE
       SET holder = excluded.holder,
           acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END,
           renewed_at = excluded.renewed_at,
           expires_at = excluded.expires_at
     WHERE l.expires_at <= v_now OR l.holder = excluded.holder
    RETURNING true, l.holder, l.expires_at;
    IF NOT FOUND THEN   -- held by someone else (the conflicting row is locked by now)
        RETURN QUERY SELECT false, l.holder, l.expires_at FROM payments.leases AS l
                      WHERE l.job = acquire_lease.job;
    END IF;
END
$$;

COMMENT ON FUNCTION payments.acquire_lease(text, text, interval) IS
    'Takes (or renews) a job''s lease for ttl unless another holder''s lease is unexpired; returns acquired, held_by, expires_at; PM009';

-- payments.renew_lease(job, holder, ttl)
-- Extends the lease to now + ttl if `holder` still holds it (even past its
-- expiry, as long as nobody took it over). false: it was taken over or
-- released; the run must stop.
CREATE OR REPLACE FUNCTION payments.renew_lease(job text, holder text, ttl interval)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
DECLARE
    v_now timestamptz := payments_private.wall_clock();
BEGIN
    PERFORM payments_private.require_lease(renew_lease.job, renew_lease.holder);
    PERFORM payments_private.require_ttl(renew_lease.ttl);
    UPDATE payments.leases AS l
       SET renewed_at = v_now, expires_at = v_now + renew_lease.ttl
     WHERE l.job = renew_lease.job AND l.holder = renew_lease.holder;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION payments.renew_lease(text, text, interval) IS
    'Extends a lease held by holder to now + ttl; false when another holder took it or it was released; PM009';

-- payments.release_lease(job, holder)
-- Gives the lease up if `holder` holds it; false when it did not (taken over
-- after expiry, or already released).
CREATE OR REPLACE FUNCTION payments.release_lease(job text, holder text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = payments, pg_temp
AS $$
BEGIN
    PERFORM payments_private.require_lease(release_lease.job, release_lease.holder);
    DELETE FROM payments.leases AS l WHERE l.job = release_lease.job AND l.holder = release_lease.holder;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION payments.release_lease(text, text) IS
    'Releases a lease held by holder; false when holder did not hold it; PM009';
