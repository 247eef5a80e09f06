DROP TABLE recovery_codes;
DROP TABLE totp_factors;
CREATE INDEX sessions_user_idx ON sessions (user_id);
DROP INDEX sessions_user_used_idx;
ALTER TABLE sessions DROP COLUMN second_factor;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN last_ip;
ALTER TABLE sessions DROP COLUMN ip;
ALTER TABLE sessions DROP COLUMN last_used_at;
