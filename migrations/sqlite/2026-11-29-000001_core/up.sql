-- SQLite twin of migrations/postgres: ids are 16-byte blobs, times are
-- UTC text of fixed width (2026-11-29T15:30:28.123456Z), so they sort.
CREATE TABLE users (
    id                  blob PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    email               text,
    email_normalized    text UNIQUE,
    password_hash       text,
    first_name          text,
    last_name           text,
    admin               boolean NOT NULL DEFAULT 0,
    manager_id          blob REFERENCES users (id) ON DELETE CASCADE,
    registered_at       text NOT NULL,
    CONSTRAINT users_account_or_managed CHECK (
        (manager_id IS NULL AND email IS NOT NULL AND email_normalized IS NOT NULL AND password_hash IS NOT NULL)
        OR (manager_id IS NOT NULL AND email IS NULL AND email_normalized IS NULL AND password_hash IS NULL AND NOT admin)
    )
);
CREATE INDEX users_manager_idx ON users (manager_id, registered_at, id);

CREATE TABLE sessions (
    id          blob PRIMARY KEY NOT NULL,
    user_id     blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  text NOT NULL,
    expires_at  text NOT NULL,
    revoked_at  text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE signin_throttle (
    key                 text PRIMARY KEY NOT NULL,
    failures            integer NOT NULL,
    window_started_at   text NOT NULL,
    last_failed_at      text NOT NULL
);
CREATE INDEX signin_throttle_window_idx ON signin_throttle (window_started_at);
