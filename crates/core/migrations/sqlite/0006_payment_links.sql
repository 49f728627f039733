-- Reusable provider links that sell one product (Stripe Payment Links), made once per product,
-- price and name, and reused on every sign and post (each tagged with where it is shown).
CREATE TABLE payment_links (
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    name        TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    url         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (product_id, provider)
);
