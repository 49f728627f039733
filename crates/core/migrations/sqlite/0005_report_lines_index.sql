-- The summary reads each payment's lines (product, quantity, price) from an index alone.
DROP INDEX order_lines_by_order;
CREATE INDEX order_lines_for_reports ON order_lines (order_id, product_id, quantity, unit_price_minor);
