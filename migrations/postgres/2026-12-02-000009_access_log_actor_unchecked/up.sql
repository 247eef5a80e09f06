-- C3: an entry's actor is no longer a foreign key. Each read's entry
-- checked its actor's row and locked it FOR KEY SHARE (a write to that
-- user's heap tuple and the WAL, per entry); the log is the busiest insert
-- of all, and its subject's key (`user_id`, which cascades) is the one the
-- contract needs enforced. An account's deletion nulls its entries' actor
-- in its own transaction (`users::delete`), and a read of the log shows no
-- actor id whose user is gone, which covers an entry written by a read
-- racing its actor's deletion.
ALTER TABLE access_log DROP CONSTRAINT access_log_actor_id_fkey;
