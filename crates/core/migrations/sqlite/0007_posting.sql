-- Posting: connected microblog accounts (secrets live in the keychain; only their names here)
-- and the outbox, one row per post per account, with its own tracked buy link.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    network        TEXT NOT NULL,            -- bluesky, mastodon, weibo
    service        TEXT NOT NULL,            -- PDS, instance or API base URL
    handle         TEXT NOT NULL,
    -- Network extras (Weibo secure domain, token expiry, Mastodon limits…), JSON.
    settings       TEXT NOT NULL DEFAULT '{}',
    secret_name    TEXT NOT NULL,
    secret_backend TEXT NOT NULL,
    -- ok, or reconnect when the network refused the saved credentials.
    status         TEXT NOT NULL DEFAULT 'ok',
    created_at     INTEGER NOT NULL,
    UNIQUE (network, service, handle)
);

CREATE TABLE posts (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id      INTEGER REFERENCES products (id) ON DELETE SET NULL,
    text            TEXT NOT NULL,
    link            TEXT,
    -- Photo hashes (JSON array) and their alt texts, attached when sending.
    photos          TEXT NOT NULL DEFAULT '[]',
    -- Fixed per post: a retry can never create a second post.
    idempotency_key TEXT NOT NULL UNIQUE,
    -- queued → sending → posted | failed; missed (scheduled while closed) → queued | skipped
    status          TEXT NOT NULL,
    scheduled_at    INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    remote_id       TEXT,
    url             TEXT,
    error_code      TEXT,
    error_message   TEXT,
    error_raw       TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    posted_at       INTEGER
);
CREATE INDEX posts_due ON posts (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX posts_by_product ON posts (product_id);
CREATE INDEX posts_by_account ON posts (account_id);
