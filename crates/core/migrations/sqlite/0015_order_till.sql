-- Which till (register) took a sale, as the cashier named it ("Front", "收银台 2"); at most 64
-- characters, trimmed. NULL for orders from the shop page, and for sales before this column.
ALTER TABLE orders ADD COLUMN till TEXT;
