-- SQLite twin of migrations/postgres (see there). The users table is
-- rebuilt without manager_id, as SQLite's documented twelve steps do it:
-- with foreign keys off, so that dropping the old table cascades to no
-- row that names a user, and checked before the commit.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE user_managers (
    user_id     blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    manager_id  blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since       text NOT NULL,
    PRIMARY KEY (user_id, manager_id),
    CONSTRAINT user_managers_not_oneself CHECK (user_id <> manager_id)
);
CREATE INDEX user_managers_manager_idx ON user_managers (manager_id, user_id);
INSERT INTO user_managers (user_id, manager_id, since)
SELECT id, manager_id, registered_at FROM users WHERE manager_id IS NOT NULL;

CREATE TABLE users_new (
    id                  blob PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    email               text,
    email_normalized    text UNIQUE,
    password_hash       text,
    first_name          text,
    last_name           text,
    admin               boolean NOT NULL DEFAULT 0,
    registered_at       text NOT NULL,
    CONSTRAINT users_account_or_managed CHECK (
        (email IS NOT NULL AND email_normalized IS NOT NULL AND password_hash IS NOT NULL)
        OR (email IS NULL AND email_normalized IS NULL AND password_hash IS NULL AND NOT admin)
    )
);
INSERT INTO users_new (id, email, email_normalized, password_hash, first_name, last_name, admin, registered_at)
SELECT id, email, email_normalized, password_hash, first_name, last_name, admin, registered_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
