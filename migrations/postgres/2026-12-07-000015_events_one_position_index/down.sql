DROP INDEX events_position_idx;
ALTER TABLE events ADD PRIMARY KEY (seq);
CREATE UNIQUE INDEX events_position_key ON events (position) WHERE position IS NOT NULL;
CREATE INDEX events_unsequenced_idx ON events (seq) WHERE position IS NULL;
