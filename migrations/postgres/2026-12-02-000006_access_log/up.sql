-- C3: who saw what. One row per read or change of a user's data by someone
-- other than that user. The log goes with its user; an entry outlives its
-- actor's account, with `actor_id` null and the display name it had.
-- `scope` is what the request needed then, kept as it was decided.
CREATE TABLE access_log (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at                 timestamptz NOT NULL,
    actor_id           uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_display_name text NOT NULL,
    action             text NOT NULL,
    scope              text,
    via                text NOT NULL
);
-- The log's pages, newest first (`at`, then `id`), keyset-paged.
CREATE INDEX access_log_user_idx ON access_log (user_id, at DESC, id DESC);
-- An actor's deletion sets its entries' actor to null.
CREATE INDEX access_log_actor_idx ON access_log (actor_id);
-- Retention (`purge-expired`): entries arrive in time order, so a BRIN
-- index finds the old ones at a fraction of a B-tree's cost per insert.
CREATE INDEX access_log_at_idx ON access_log USING brin (at);
