DROP TABLE event_relay;
DROP TABLE events;
