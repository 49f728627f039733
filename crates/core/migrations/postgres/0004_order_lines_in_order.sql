-- How many lines each line's order has, written with the order (its lines never change): the
-- summary takes a one-line order's whole payment without reading its siblings, so it adds up
-- on the server in one pass. 0 means not known, which reports treat like several lines.
-- (SQLite: 0020.)
ALTER TABLE order_lines ADD COLUMN lines_in_order BIGINT NOT NULL DEFAULT 0;
UPDATE order_lines AS l SET lines_in_order = counted.lines
    FROM (SELECT order_id, count(*) AS lines FROM order_lines GROUP BY order_id) AS counted
    WHERE counted.order_id = l.order_id;

-- The summary's pass: lines in order id order with all it adds up (an index-only merge with
-- the payments), and the orders whose lines it must still split one by one. It replaces the
-- reports' index (the same columns but the line count), so a sale writes no more indexes.
DROP INDEX order_lines_for_reports;
CREATE INDEX order_lines_for_summary ON order_lines
    (order_id, lines_in_order, product_id, quantity, gross_minor, discount_minor, tax_minor, tax_rate_name);
CREATE INDEX order_lines_split ON order_lines (order_id) WHERE lines_in_order <> 1;

-- Groups the summary adds up by: the planner estimates them from these (without, it takes
-- every payment for a group of its own and sorts instead of hashing).
CREATE STATISTICS payments_report_groups (ndistinct)
    ON currency, provider, method, channel, source_ref FROM payments;
CREATE STATISTICS order_lines_report_groups (ndistinct)
    ON product_id, tax_rate_name FROM order_lines;
