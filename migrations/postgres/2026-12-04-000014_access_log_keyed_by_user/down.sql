DROP TRIGGER users_delete_access_log ON users;
DROP FUNCTION steward_delete_access_log();
ALTER TABLE access_log DROP CONSTRAINT access_log_pkey;
ALTER TABLE access_log ADD PRIMARY KEY (id);
CREATE INDEX access_log_user_idx ON access_log (user_id, at DESC, id DESC);
DELETE FROM access_log WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = access_log.user_id);
ALTER TABLE access_log
    ADD CONSTRAINT access_log_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
DROP FUNCTION steward_access_entry_id(timestamptz);
