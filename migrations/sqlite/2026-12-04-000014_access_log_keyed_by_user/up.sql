-- SQLite twin of migrations/postgres (see there): ids made again from
-- their `at` (text, `YYYY-MM-DDTHH:MM:SS.ffffffZ`), and the pages' index on
-- `(user_id, id)`. The foreign key to `users` stays: SQLite has one writer
-- at a time, and its check costs a read's entry little there.
UPDATE access_log SET id = unhex(
    printf('%012x', unixepoch(substr(at, 1, 19)) * 1000 + CAST(substr(at, 21, 3) AS INTEGER))
    || printf('%02x', 112 | (CAST(substr(at, 24, 3) AS INTEGER) >> 6))
    || printf('%02x', ((CAST(substr(at, 24, 3) AS INTEGER) & 63) << 2) | (random() & 3))
    || printf('%02x', 128 | (random() & 63))
    || hex(randomblob(7)));
DROP INDEX access_log_user_idx;
CREATE INDEX access_log_user_idx ON access_log (user_id, id);
