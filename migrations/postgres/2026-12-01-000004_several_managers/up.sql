-- C1: a managed user has one or more managers, all equal. The one manager
-- of Part A (users.manager_id) becomes the first row of a relation; its
-- creator's row keeps the user's registration as `since`.
CREATE TABLE user_managers (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    manager_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL,
    PRIMARY KEY (user_id, manager_id),
    CONSTRAINT user_managers_not_oneself CHECK (user_id <> manager_id)
);
-- The users a manager manages (the list, access checks, account deletion).
CREATE INDEX user_managers_manager_idx ON user_managers (manager_id, user_id);

INSERT INTO user_managers (user_id, manager_id, since)
SELECT id, manager_id, registered_at FROM users WHERE manager_id IS NOT NULL;

-- A user is managed exactly when it has no credentials: the last manager
-- cannot leave, a claim (C2) gives credentials and ends every management.
ALTER TABLE users DROP CONSTRAINT users_account_or_managed;
DROP INDEX users_manager_idx;
ALTER TABLE users DROP COLUMN manager_id;
ALTER TABLE users ADD CONSTRAINT users_account_or_managed CHECK (
    (email IS NOT NULL AND email_normalized IS NOT NULL AND password_hash IS NOT NULL)
    OR (email IS NULL AND email_normalized IS NULL AND password_hash IS NULL AND NOT admin)
);
