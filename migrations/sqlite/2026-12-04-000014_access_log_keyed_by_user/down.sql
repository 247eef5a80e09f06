DROP INDEX access_log_user_idx;
CREATE INDEX access_log_user_idx ON access_log (user_id, at DESC, id DESC);
