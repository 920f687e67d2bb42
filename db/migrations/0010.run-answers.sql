-- Answers of an open run as rows of their own, not appended to the run's row.
--
-- Every answer applied in a sync or reconcile run used to lock the run's one
-- payments.runs row FOR NO KEY UPDATE and append the order number to its
-- `answered` array (searched with = ANY). The answers of one sync run, applied
-- PAYMENTS_HTTP_CONCURRENCY at a time, each in its own transaction, therefore
-- committed one after another, and each rewrote an array as long as the run
-- so far (a run of n answers: O(n^2)). Now an answer locks the run's row FOR
-- SHARE, which answers share and finish_run (FOR NO KEY UPDATE) waits for,
-- and writes one row here keyed by (run, order); finish_run folds the rows
-- into the run's counters and arrays, which keep their meaning for a finished
-- run, and deletes them. See docs/ARCHITECTURE.md ("Runs").
--
-- Logged, not UNLOGGED: a crash would otherwise lose answers already
-- committed, and a run finished after it would count them as never checked.
-- depends: 0009.domain-checks

CREATE TABLE payments_private.run_answers (
    run_id        bigint  NOT NULL REFERENCES payments.runs (id) ON DELETE CASCADE,
    order_number  text    NOT NULL,
    -- the counter of the order's first answer in the run: a status
    -- (apply_gateway_status, expire_order), no transaction at Midtrans
    -- (apply_status_not_found) or could not be checked (run_failed); later
    -- answers of the same order count in no counter again
    counted_as    text    NOT NULL CHECK (counted_as IN ('checked', 'not_found', 'failed')),
    -- an answer of the order changed its status (counted once in `changed`)
    changed       boolean NOT NULL DEFAULT false,
    -- run_failed calls for the order (each counted in `failed`)
    failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    PRIMARY KEY (run_id, order_number)
);
COMMENT ON TABLE payments_private.run_answers IS
    'Answers counted in an open run, one row per order; folded into payments.runs and deleted by finish_run';

COMMENT ON SCHEMA payments_private IS
    'Internal functions and scratch tables of the payments schema: not granted to any role, may change without notice';
