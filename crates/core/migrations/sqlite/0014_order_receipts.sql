-- The shop page's receipts: a buyer reaches their order's receipt by an unguessable token
-- in its address. Only the token's SHA-256 (hex) is kept, so a copy of the shop file does
-- not open anyone's receipt. NULL for till orders.
ALTER TABLE orders ADD COLUMN receipt_hash TEXT;
CREATE UNIQUE INDEX orders_by_receipt ON orders (receipt_hash);
