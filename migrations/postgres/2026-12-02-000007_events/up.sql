-- C4: the transactional outbox. A writer inserts its events in the change's
-- own transaction, with `position` NULL; it takes no lock. A sequencer
-- (persistence::events::sequence, run by the feed and the relay) later
-- numbers the committed events, in insert order, above the highest position
-- so far, in one transaction under an advisory lock of its own: positions
-- are gap-free and a position once seen is never preceded by one given
-- later.
-- No foreign keys: an event outlives its user (`user.deleted` is about a
-- user that no longer exists) and its actor.
CREATE TABLE events (
    seq       bigserial PRIMARY KEY,
    position  bigint,
    id        uuid NOT NULL UNIQUE,
    type      text NOT NULL,
    at        timestamptz NOT NULL,
    user_id   uuid NOT NULL,
    actor_id  uuid,
    data      text NOT NULL
);
CREATE UNIQUE INDEX events_position_key ON events (position);
-- What the sequencer has still to number: small, as it numbers it soon.
CREATE INDEX events_unsequenced_idx ON events (seq) WHERE position IS NULL;
-- Erasure (a user's deletion blanks the data of its events).
CREATE INDEX events_user_idx ON events (user_id);
-- purge-expired.
CREATE INDEX events_at_idx ON events (at);

-- How far the relay has published to NATS (one row).
CREATE TABLE event_relay (
    id             smallint PRIMARY KEY CHECK (id = 1),
    last_position  bigint NOT NULL
);
INSERT INTO event_relay (id, last_position) VALUES (1, 0);
