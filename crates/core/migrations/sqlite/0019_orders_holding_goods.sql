-- The few orders that still hold goods (not paid yet, stock not taken): a sale checks what
-- they hold without reading every line ever sold of its products. (PostgreSQL: 0003.)
CREATE INDEX orders_holding_goods ON orders (id)
    WHERE stock_taken = 0 AND status IN ('open', 'awaiting_payment');
