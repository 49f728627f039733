-- When the shop learnt that a payment was paid (UTC ms): the till's day counts a sale when it
-- settles, not when the provider says it happened, so a QR paid a second before the close and
-- reported after it counts on the next Z instead of on none. Payments paid before this
-- migration take the time the provider gave.
ALTER TABLE payments ADD COLUMN settled_at INTEGER;
UPDATE payments SET settled_at = occurred_at WHERE status IN ('paid', 'refunded');
