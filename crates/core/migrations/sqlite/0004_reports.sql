-- Reports read payments by time with their order lines: one index to reach an order's lines,
-- and one that holds every column a report reads, so a year of payments is read from the
-- index alone in time order (no table lookups, no sort).
CREATE INDEX order_lines_by_order ON order_lines (order_id);
CREATE INDEX payments_for_reports ON payments (
    occurred_at, status, test, mismatch, currency, amount_minor, refunded_minor,
    provider, method, channel, source_ref, order_id
);
