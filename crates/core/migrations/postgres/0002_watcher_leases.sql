-- One active payment watcher per provider across every till sharing the shop's database:
-- the holder renews its lease each round; the others stand by and take over once it expires.
-- (SQLite: 0018_watcher_leases.sql.)
CREATE TABLE watcher_leases (
    provider   TEXT NOT NULL PRIMARY KEY,
    -- The process holding it (a random id per run).
    holder     TEXT NOT NULL,
    -- UTC, unix ms.
    expires_at BIGINT NOT NULL
);
