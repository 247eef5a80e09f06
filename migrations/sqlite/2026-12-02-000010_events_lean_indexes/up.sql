-- SQLite twin of migrations/postgres (see there): nothing changes. Its
-- inserts run in the process, one writer at a time, and the B-tree on `at`
-- is what SQLite has; the UNIQUE on `id` could go only with a rebuild of
-- the table.
SELECT 1;
