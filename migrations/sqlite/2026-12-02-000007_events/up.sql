-- SQLite twin of migrations/postgres (see there). Writers take turns in the
-- process (Db::write), so insert order is commit order: the position is the
-- row's own number, never reused (AUTOINCREMENT) even when purge-expired has
-- dropped the newest rows, and there is no sequencer.
CREATE TABLE events (
    seq       integer PRIMARY KEY AUTOINCREMENT NOT NULL,
    position  integer GENERATED ALWAYS AS (seq) VIRTUAL,
    id        blob NOT NULL UNIQUE,
    type      text NOT NULL,
    at        text NOT NULL,
    user_id   blob NOT NULL,
    actor_id  blob,
    data      text NOT NULL
);
CREATE UNIQUE INDEX events_position_key ON events (position);
CREATE INDEX events_user_idx ON events (user_id);
CREATE INDEX events_at_idx ON events (at);

CREATE TABLE event_relay (
    id             integer PRIMARY KEY NOT NULL CHECK (id = 1),
    last_position  integer NOT NULL
);
INSERT INTO event_relay (id, last_position) VALUES (1, 0);
