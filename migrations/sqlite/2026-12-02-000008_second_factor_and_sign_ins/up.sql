-- SQLite twin of migrations/postgres (see there).
ALTER TABLE sessions ADD COLUMN last_used_at text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip text;
ALTER TABLE sessions ADD COLUMN last_ip text;
ALTER TABLE sessions ADD COLUMN user_agent text;
ALTER TABLE sessions ADD COLUMN second_factor text CHECK (second_factor IN ('totp', 'recovery_code'));
UPDATE sessions SET last_used_at = created_at;
CREATE INDEX sessions_user_used_idx ON sessions (user_id, last_used_at, id);
DROP INDEX sessions_user_idx;

CREATE TABLE totp_factors (
    user_id           blob PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed     blob NOT NULL,
    enabled_at        text,
    enroll_expires_at text,
    last_step         bigint
);

CREATE TABLE recovery_codes (
    user_id   blob NOT NULL REFERENCES totp_factors (user_id) ON DELETE CASCADE,
    code_hash blob NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
