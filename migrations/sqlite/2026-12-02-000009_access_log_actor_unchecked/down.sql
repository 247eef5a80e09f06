CREATE TABLE access_log_old (
    id                 blob PRIMARY KEY NOT NULL,
    user_id            blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at                 text NOT NULL,
    actor_id           blob REFERENCES users (id) ON DELETE SET NULL,
    actor_display_name text NOT NULL,
    action             text NOT NULL,
    scope              text,
    via                text NOT NULL
);
INSERT INTO access_log_old
SELECT id, user_id, at, CASE WHEN EXISTS (SELECT 1 FROM users WHERE users.id = access_log.actor_id) THEN actor_id END,
       actor_display_name, action, scope, via
FROM access_log;
DROP TABLE access_log;
ALTER TABLE access_log_old RENAME TO access_log;
CREATE INDEX access_log_user_idx ON access_log (user_id, at DESC, id DESC);
CREATE INDEX access_log_actor_idx ON access_log (actor_id);
CREATE INDEX access_log_at_idx ON access_log (at);
