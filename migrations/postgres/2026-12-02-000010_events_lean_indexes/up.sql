-- C4: every change inserts its events, so each index of `events` is paid
-- by every write. Two served nothing the feed needs:
-- - the unique index on `id`: ids are random v4 UUIDs, made by Steward,
--   never looked up (the feed and the relay go by position; `id` is the
--   consumers' key for deduplication), and each insert landed on a random
--   page of it;
-- - the B-tree on `at`: only `purge-expired` asks by time, and events
--   arrive in time order, so a BRIN index finds the old ones at a fraction
--   of the cost per insert (as `access_log_at_idx` does).
ALTER TABLE events DROP CONSTRAINT events_id_key;
DROP INDEX events_at_idx;
CREATE INDEX events_at_idx ON events USING brin (at);
