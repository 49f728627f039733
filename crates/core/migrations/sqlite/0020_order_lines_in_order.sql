-- How many lines each line's order has, written with the order (its lines never change): a
-- server's summary takes a one-line order's whole payment without reading its siblings.
-- 0 means not known (lines written before this), which reports treat like several lines.
-- (PostgreSQL: 0004.)
ALTER TABLE order_lines ADD COLUMN lines_in_order INTEGER NOT NULL DEFAULT 0;
UPDATE order_lines SET lines_in_order =
    (SELECT count(*) FROM order_lines AS sibling WHERE sibling.order_id = order_lines.order_id);
