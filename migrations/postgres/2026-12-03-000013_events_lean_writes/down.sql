DROP INDEX events_position_key;
CREATE UNIQUE INDEX events_position_key ON events (position);
ALTER TABLE events RESET (fillfactor);
