PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_old (
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
INSERT INTO users_old (id, email, email_normalized, password_hash, first_name, last_name, admin, manager_id, registered_at)
SELECT id, email, email_normalized, password_hash, first_name, last_name, admin,
       (SELECT m.manager_id FROM user_managers m WHERE m.user_id = users.id ORDER BY m.since, m.manager_id LIMIT 1),
       registered_at
FROM users;
DROP TABLE user_managers;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE INDEX users_manager_idx ON users (manager_id, registered_at, id);
COMMIT;
PRAGMA foreign_keys = ON;
