DROP TABLE recovery_codes;
DROP TABLE totp_factors;
CREATE INDEX sessions_user_idx ON sessions (user_id);
DROP INDEX sessions_user_used_idx;
ALTER TABLE sessions
    DROP COLUMN second_factor,
    DROP COLUMN user_agent,
    DROP COLUMN last_ip,
    DROP COLUMN ip,
    DROP COLUMN last_used_at;
