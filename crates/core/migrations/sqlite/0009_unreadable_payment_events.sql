-- Provider events Shopcast could not read (another integration's setup-mode Checkout Session
-- with no amount, a field Stripe left null): kept once each, as received but cut to a bounded
-- size, for the owner to review; the feed moves on past them.
CREATE TABLE unreadable_payment_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    -- Why it could not be read, in words ("amount_total is null").
    reason      TEXT NOT NULL,
    raw         TEXT NOT NULL,
    -- UTC, unix ms.
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
);
