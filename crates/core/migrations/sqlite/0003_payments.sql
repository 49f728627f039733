-- Payments: orders become till sales with a total, a status and a source; charges are the
-- attempts to get an order paid at a provider (a QR on screen); payments are the ledger, one
-- row per payment at a provider; payment_events keeps every state change as received.

-- The order's public reference ("O-7K3F9Q2M"), sent to providers and echoed back. Random, so
-- an event from another shop file on the same provider account can never match an order here.
ALTER TABLE orders ADD COLUMN ref TEXT;
CREATE UNIQUE INDEX orders_by_ref ON orders (ref);
-- open → awaiting_payment → paid | cancelled | expired; review when a payment does not match.
ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE orders ADD COLUMN total_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT '';
-- Where the sale came from: till, signage, post, link.
ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL DEFAULT 'till';
-- Which sign batch or post brought it, for attribution.
ALTER TABLE orders ADD COLUMN source_ref TEXT;
ALTER TABLE orders ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
-- What was sold, as it was named at the time (a receipt must not change with the catalog).
ALTER TABLE order_lines ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE order_lines ADD COLUMN sku TEXT;

CREATE TABLE charges (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    charge_ref   TEXT NOT NULL,
    qr_payload   TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    -- open, paid, failed, expired, cancelled
    status       TEXT NOT NULL DEFAULT 'open',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    raw          TEXT NOT NULL DEFAULT '',
    UNIQUE (provider, charge_ref)
);
CREATE INDEX charges_open ON charges (provider, expires_at) WHERE status = 'open';
CREATE INDEX charges_by_order ON charges (order_id);

CREATE TABLE payments (
    id             INTEGER PRIMARY KEY,
    provider       TEXT NOT NULL,
    provider_ref   TEXT NOT NULL,
    order_id       INTEGER REFERENCES orders (id) ON DELETE SET NULL,
    charge_id      INTEGER REFERENCES charges (id) ON DELETE SET NULL,
    -- pending, paid, failed, expired, refunded
    status         TEXT NOT NULL,
    amount_minor   INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    refunded_minor INTEGER NOT NULL DEFAULT 0,
    method         TEXT,
    channel        TEXT NOT NULL DEFAULT 'link',
    source_ref     TEXT,
    test           INTEGER NOT NULL DEFAULT 0,
    -- Why this payment does not match its order (amount or currency); NULL when it does.
    mismatch       TEXT,
    -- When the provider says it happened (UTC, unix ms) and when we last changed the row.
    occurred_at    INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (provider, provider_ref)
);
CREATE INDEX payments_by_time ON payments (occurred_at);
CREATE INDEX payments_by_order ON payments (order_id);

CREATE TABLE payment_events (
    id                   INTEGER PRIMARY KEY,
    provider             TEXT NOT NULL,
    event_id             TEXT NOT NULL,
    provider_ref         TEXT NOT NULL,
    status               TEXT NOT NULL,
    amount_minor         INTEGER NOT NULL,
    currency             TEXT NOT NULL,
    refunded_total_minor INTEGER,
    occurred_at          INTEGER NOT NULL,
    received_at          INTEGER NOT NULL,
    raw                  TEXT NOT NULL,
    UNIQUE (provider, event_id)
);
CREATE INDEX payment_events_by_payment ON payment_events (provider, provider_ref);

-- Where each provider's watcher resumes (Stripe: newest event time seen).
CREATE TABLE provider_cursors (
    provider   TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
