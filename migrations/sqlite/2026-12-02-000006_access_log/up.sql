-- SQLite twin of migrations/postgres (see there).
CREATE TABLE access_log (
    id                 blob PRIMARY KEY NOT NULL,
    user_id            blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at                 text NOT NULL,
    actor_id           blob REFERENCES users (id) ON DELETE SET NULL,
    actor_display_name text NOT NULL,
    action             text NOT NULL,
    scope              text,
    via                text NOT NULL
);
CREATE INDEX access_log_user_idx ON access_log (user_id, at DESC, id DESC);
CREATE INDEX access_log_actor_idx ON access_log (actor_id);
CREATE INDEX access_log_at_idx ON access_log (at);
