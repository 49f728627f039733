-- Shop settings: one row per key; values validated by the settings service.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE products (
    id           INTEGER PRIMARY KEY,
    sku          TEXT UNIQUE,
    name         TEXT NOT NULL CHECK (length(name) > 0),
    description  TEXT NOT NULL DEFAULT '',
    price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    stock        INTEGER,
    -- Tags joined by ';' (a tag never contains ';'), so CSV and FTS see the same text.
    tags         TEXT NOT NULL DEFAULT '',
    archived     INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at   INTEGER NOT NULL, -- unix ms, UTC
    updated_at   INTEGER NOT NULL  -- unix ms, UTC
);
CREATE INDEX products_listing ON products (archived, updated_at DESC, id DESC);

-- Photos are content-addressed files under media/; rows only reference them.
CREATE TABLE product_photos (
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    hash        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (product_id, hash)
);
CREATE INDEX product_photos_by_position ON product_photos (product_id, position);

-- Orders and their lines: filled by the till and payment watchers (later issues).
-- A product that appears in an order line has sales: it can be archived, never deleted.
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL
);
CREATE TABLE order_lines (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       INTEGER REFERENCES products (id) ON DELETE RESTRICT,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL,
    currency         TEXT NOT NULL
);
CREATE INDEX order_lines_by_product ON order_lines (product_id);

-- Full-text search over name, description, SKU and tags. The trigram tokenizer matches
-- substrings in any script (Chinese has no spaces between words).
CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, description, sku, tags,
    content = 'products', content_rowid = 'id',
    tokenize = 'trigram remove_diacritics 1'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, description, sku, tags)
    VALUES (new.id, new.name, new.description, coalesce(new.sku, ''), new.tags);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description, sku, tags)
    VALUES ('delete', old.id, old.name, old.description, coalesce(old.sku, ''), old.tags);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, description, sku, tags ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description, sku, tags)
    VALUES ('delete', old.id, old.name, old.description, coalesce(old.sku, ''), old.tags);
    INSERT INTO products_fts (rowid, name, description, sku, tags)
    VALUES (new.id, new.name, new.description, coalesce(new.sku, ''), new.tags);
END;
