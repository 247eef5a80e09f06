DROP INDEX events_at_idx;
CREATE INDEX events_at_idx ON events (at);
ALTER TABLE events ADD CONSTRAINT events_id_key UNIQUE (id);
