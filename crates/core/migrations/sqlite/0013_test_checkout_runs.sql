-- Test checkout runs: a test charge can only be paid through the checkout of the run (window
-- or `payments watch`) that made it, since that checkout keeps it in memory. Each run has a
-- random id and refreshes its heartbeat on every poll; another run expires a test charge only
-- once the run that made it has stopped beating.
CREATE TABLE test_checkout_runs (
    run_id       TEXT PRIMARY KEY,
    -- unix ms of the run's last poll
    heartbeat_at INTEGER NOT NULL
);
-- The run that made the test charge (NULL for other providers and for test charges made
-- before this migration: nobody can pay those any more).
ALTER TABLE charges ADD COLUMN test_run TEXT;
