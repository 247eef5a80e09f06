-- C4: what each change's event costs, lower (bench/results/issue-14.md).
--
-- The erasure blanks the `data` of a deleted user's earlier events (the
-- trigger of migration 000011), a column no index covers: with room left
-- on each page the new version stays on its page (a heap-only update) and
-- no index gains an entry. Pages filled to the brim, as append-only pages
-- are by default, sent every erased event to another page with a new entry
-- in each of the table's indexes: a user's deletion wrote its events again.
-- Applies to pages filled from now on.
ALTER TABLE events SET (fillfactor = 85);
-- An event is inserted without a position (the sequencer gives it one):
-- the unique index on `position` took a null entry for every insert, of no
-- use to any reader (`after`, `max`, the purge all ask for positions). Only
-- numbered events now; still one position per event. Rebuilt here under
-- the migration's lock: on a large feed, writes wait for it.
DROP INDEX events_position_key;
CREATE UNIQUE INDEX events_position_key ON events (position) WHERE position IS NOT NULL;
