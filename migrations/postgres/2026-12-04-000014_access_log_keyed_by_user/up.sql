-- C3: what a read's entry costs, lower (bench/results/issue-13.md). Each
-- read leaves an entry, so each of the log's indexes and checks is paid by
-- every read. Two of them did work that another part already does:
--
-- 1. The primary key on `id` alone, beside the pages' index on
--    `(user_id, at, id)`. An entry's id now begins with its time
--    (`AccessEntryId::for_time`: a UUIDv7 whose first 48 bits are `at`'s
--    milliseconds and whose next bits, after the version, its microseconds;
--    RFC 9562, section 6.2, method 3), so ids sort as (at, id) does and one
--    key, `(user_id, id)`, both finds a page's cursor and pages a log newest
--    first. The ids written so far are made again here the same way, from
--    their `at` (a cursor a client kept from before this migration names no
--    entry after it: the log's read answers it as any unknown `before`).
--
-- 2. The foreign key from `user_id` to `users`: its check ran a query per
--    inserted row (a trigger's plan, started and ended for each entry: a
--    fifth of the batch writer's time in the profile), where a batch of
--    reads' entries now locks its users in one statement
--    (`access_log::record_reads`: `FOR KEY SHARE`, the lock the key took),
--    and a change's entry is written in the change's transaction, after
--    the change took a lock on the user's row or on a row that names the
--    user and goes with them (the user row it updates, the activity or
--    share it writes), which a deletion waits for in its cascade. Its
--    `ON DELETE CASCADE` becomes the trigger below, which runs after the
--    foreign keys' own cascades (triggers fire in the order of their names,
--    and theirs begin with `RI_`), and after the deletion waited for each
--    writer still holding one of those locks: its function is volatile, so
--    its DELETE takes a fresh snapshot and sees every entry committed by
--    then; a writer still to come finds the user gone (the entry is not
--    written, and the request is a 404), as the key made it.
CREATE FUNCTION steward_access_entry_id(timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    -- The id Steward makes for an entry at $1 (see above): 48 bits of Unix
    -- milliseconds, the version (7), 10 bits of microseconds within that
    -- millisecond and 2 random ones, the variant, 62 random bits. For this
    -- migration and for operators' tools (bench/access-log.sh fills a log).
    SELECT encode(
        overlay(
            set_byte(set_byte(set_byte(p.r, 6, 112 | (p.us >> 6)), 7, ((p.us & 63) << 2) | (get_byte(p.r, 7) & 3)),
                     8, 128 | (get_byte(p.r, 8) & 63))
            PLACING substring(int8send(p.ms) FROM 3) FROM 1 FOR 6),
        'hex')::uuid
    FROM (SELECT uuid_send(gen_random_uuid()) AS r,
                 floor(extract(epoch FROM $1) * 1000)::bigint AS ms,
                 (floor(extract(epoch FROM $1) * 1000000)::bigint % 1000)::int AS us) AS p
$$;
ALTER TABLE access_log DROP CONSTRAINT access_log_user_id_fkey;
ALTER TABLE access_log DROP CONSTRAINT access_log_pkey;
DROP INDEX access_log_user_idx;
UPDATE access_log SET id = steward_access_entry_id(at);
ALTER TABLE access_log ADD PRIMARY KEY (user_id, id);
CREATE FUNCTION steward_delete_access_log() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    DELETE FROM access_log WHERE user_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_delete_access_log AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION steward_delete_access_log();
