-- Printed signage: each printed batch gets a short public id that its QR links carry
-- (…?src=qr&sign=<id>), so a later sale can be attributed to the sign that brought it.
CREATE TABLE signage_batches (
    id           TEXT PRIMARY KEY NOT NULL,
    template     TEXT NOT NULL,
    payload_kind TEXT NOT NULL,
    copies       INTEGER NOT NULL CHECK (copies > 0),
    created_at   INTEGER NOT NULL -- unix ms, UTC
);

CREATE TABLE signage_items (
    id          INTEGER PRIMARY KEY,
    batch_id    TEXT NOT NULL REFERENCES signage_batches (id) ON DELETE CASCADE,
    product_id  INTEGER REFERENCES products (id) ON DELETE SET NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX signage_items_by_batch ON signage_items (batch_id);
CREATE INDEX signage_items_by_product ON signage_items (product_id);
