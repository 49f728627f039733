-- What a real till needs: tax rates, discounts, product barcodes, low-stock thresholds and
-- the till's days (opened with a float, closed with the counted cash).

-- Named tax rates ("VAT 19 %", "增值税 13 %"). The rate is in parts per million (19 % is
-- 190000), so rates like 8.875 % are exact integers. At most one is the shop's default.
CREATE TABLE tax_rates (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) > 0),
    rate_ppm   INTEGER NOT NULL CHECK (rate_ppm >= 0 AND rate_ppm <= 1000000),
    is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX tax_rates_one_default ON tax_rates (is_default) WHERE is_default = 1;

-- A product's own tax rate (NULL: the shop's default rate), its barcode as typed (GTIN-8,
-- UPC-A, EAN-13 or GTIN-14 digits) with the GTIN's numeric value, unique, so a UPC-A and
-- the same code scanned as EAN-13 with a leading zero are one product; and the stock level
-- at or below which it is shown as running low (NULL: no warning).
ALTER TABLE products ADD COLUMN tax_rate_id INTEGER REFERENCES tax_rates (id) ON DELETE RESTRICT;
ALTER TABLE products ADD COLUMN barcode TEXT;
ALTER TABLE products ADD COLUMN gtin INTEGER;
CREATE UNIQUE INDEX products_by_gtin ON products (gtin);
ALTER TABLE products ADD COLUMN low_stock INTEGER CHECK (low_stock IS NULL OR low_stock >= 0);

-- Each line's money as sold, exactly: gross_minor is what the customer pays for the line
-- (net_minor + tax_minor), discount_minor what discounts took off it in the same terms (its
-- own and its share of the order's), so gross + discount is the line before discounts. The
-- tax rate is kept as it was named and set at the time. Lines sold before this migration
-- had no tax or discount.
ALTER TABLE order_lines ADD COLUMN gross_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN net_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN tax_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN discount_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN discount_reason TEXT;
ALTER TABLE order_lines ADD COLUMN tax_rate_name TEXT;
ALTER TABLE order_lines ADD COLUMN tax_rate_ppm INTEGER NOT NULL DEFAULT 0;
UPDATE order_lines SET gross_minor = unit_price_minor * quantity,
                       net_minor = unit_price_minor * quantity;
-- The summary reads each line's share and tax from the index alone.
DROP INDEX order_lines_for_reports;
CREATE INDEX order_lines_for_reports ON order_lines
    (order_id, product_id, quantity, gross_minor, discount_minor, tax_minor, tax_rate_name);

-- The order's discount as given (all discounts, in gross terms, in discount_minor; the
-- order-wide one's reason) and whether its prices included tax when it was sold.
ALTER TABLE orders ADD COLUMN discount_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN discount_reason TEXT;
ALTER TABLE orders ADD COLUMN prices_include_tax INTEGER NOT NULL DEFAULT 1
    CHECK (prices_include_tax IN (0, 1));

-- The till's days. A day is opened with a float and closed with the cash counted; its Z
-- report's figures are written once, at close, and a closed day can no longer change.
-- till '' is the till without a name.
CREATE TABLE till_days (
    id            INTEGER PRIMARY KEY,
    till          TEXT NOT NULL DEFAULT '',
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    float_minor   INTEGER NOT NULL CHECK (float_minor >= 0),
    opened_at     INTEGER NOT NULL,
    closed_at     INTEGER,
    counted_minor INTEGER,
    z_report      TEXT,
    CHECK ((closed_at IS NULL) = (counted_minor IS NULL))
);
CREATE UNIQUE INDEX till_days_one_open ON till_days (till) WHERE closed_at IS NULL;
CREATE TRIGGER till_days_closed_stay_closed BEFORE UPDATE ON till_days
WHEN old.closed_at IS NOT NULL BEGIN
    SELECT RAISE(ABORT, 'a closed till day cannot be changed');
END;
CREATE TRIGGER till_days_closed_are_kept BEFORE DELETE ON till_days
WHEN old.closed_at IS NOT NULL BEGIN
    SELECT RAISE(ABORT, 'a closed till day cannot be changed');
END;
