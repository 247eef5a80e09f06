-- Accounts (e-mail and password) and managed users (a manager, never an
-- e-mail or password) share one table, so "a user" is one row everywhere.
CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    email               text,
    -- Lower-cased e-mail: uniqueness and sign-in compare this column.
    email_normalized    text UNIQUE,
    password_hash       text,
    first_name          text,
    last_name           text,
    admin               boolean NOT NULL DEFAULT false,
    manager_id          uuid REFERENCES users (id) ON DELETE CASCADE,
    registered_at       timestamptz NOT NULL,
    CONSTRAINT users_account_or_managed CHECK (
        (manager_id IS NULL AND email IS NOT NULL AND email_normalized IS NOT NULL AND password_hash IS NOT NULL)
        OR (manager_id IS NOT NULL AND email IS NULL AND email_normalized IS NULL AND password_hash IS NULL AND NOT admin)
    )
);
-- The list endpoint reads a manager's users oldest first.
CREATE INDEX users_manager_idx ON users (manager_id, registered_at, id);

-- One row per sign-in (a password given). Tokens carry its id as `sid`;
-- revoking the row refuses every token refreshed from it, on every replica.
CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    -- The absolute limit: no refresh carries a token past it.
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Failed sign-ins per account and per client address, shared by replicas.
CREATE TABLE signin_throttle (
    key                 text PRIMARY KEY,
    failures            integer NOT NULL,
    window_started_at   timestamptz NOT NULL,
    last_failed_at      timestamptz NOT NULL
);
CREATE INDEX signin_throttle_window_idx ON signin_throttle (window_started_at);
