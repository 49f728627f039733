-- One sender per post: a claim names its sender (a random id per outbox, so per process) and
-- lasts until its lease ends. A post left "sending" is retried only after that, with the
-- same idempotency key; a sender whose lease was taken over cannot write its outcome.
ALTER TABLE posts ADD COLUMN claimed_by TEXT;
ALTER TABLE posts ADD COLUMN lease_expires_at INTEGER;
CREATE INDEX posts_leases ON posts (lease_expires_at) WHERE status = 'sending';
-- Posts a crash left "sending" before claims had owners: their lease is over.
UPDATE posts SET lease_expires_at = 0 WHERE status = 'sending';
