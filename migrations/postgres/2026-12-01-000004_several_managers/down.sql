-- Back to one manager: the oldest. Co-managers lose their management.
ALTER TABLE users ADD COLUMN manager_id uuid REFERENCES users (id) ON DELETE CASCADE;
UPDATE users SET manager_id = (
    SELECT m.manager_id FROM user_managers m WHERE m.user_id = users.id ORDER BY m.since, m.manager_id LIMIT 1
);
ALTER TABLE users DROP CONSTRAINT users_account_or_managed;
ALTER TABLE users ADD CONSTRAINT users_account_or_managed CHECK (
    (manager_id IS NULL AND email IS NOT NULL AND email_normalized IS NOT NULL AND password_hash IS NOT NULL)
    OR (manager_id IS NOT NULL AND email IS NULL AND email_normalized IS NULL AND password_hash IS NULL AND NOT admin)
);
CREATE INDEX users_manager_idx ON users (manager_id, registered_at, id);
DROP TABLE user_managers;
