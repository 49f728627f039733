-- Whether a paid order's goods were taken from stock, so an order that goes paid → review →
-- paid (a second payment, then a refund) never takes them twice.
ALTER TABLE orders ADD COLUMN stock_taken INTEGER NOT NULL DEFAULT 0;
UPDATE orders SET stock_taken = 1 WHERE status = 'paid';
