-- Leases: one holder per runner job (sync, reconcile, prune) across processes,
-- as a row with an expiry instead of a session advisory lock. Every call on a
-- lease is one autocommit statement (payments.acquire_lease / renew_lease /
-- release_lease), so it works through a transaction pooler (PgBouncer in
-- transaction mode, Supabase's pooler on port 6543), where a session lock is
-- taken on one server connection and released, or never, on another. A
-- holder that dies keeps the lease only until expires_at. See
-- docs/ARCHITECTURE.md.
-- depends: 0004.money-ledger

CREATE TABLE payments.leases (
    job          text        PRIMARY KEY CHECK (job IN ('sync', 'reconcile', 'prune')),
    holder       text        NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
    acquired_at  timestamptz NOT NULL,
    renewed_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    CHECK (acquired_at <= renewed_at AND renewed_at < expires_at)
);
COMMENT ON TABLE payments.leases IS
    'Who runs each runner job now (host:pid:token) and until when; written only by acquire_lease, renew_lease and release_lease';
