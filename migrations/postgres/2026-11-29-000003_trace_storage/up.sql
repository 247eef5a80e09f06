-- A packed trace (up to 3.4 MB) is already dense binary: pglz spends most
-- of an upload trying to compress it (150 ms for 100,000 points, against
-- 19 ms stored as is). Keep it out of line, uncompressed.
ALTER TABLE activity_traces ALTER COLUMN points SET STORAGE EXTERNAL;
