-- SQLite twin of migrations/postgres (ids as 16-byte blobs, UTC text times).
CREATE TABLE shares (
    id          blob PRIMARY KEY NOT NULL,
    subject_id  blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grantee_id  blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes      text NOT NULL CHECK (scopes <> ''),
    created_at  text NOT NULL,
    expires_at  text,
    CONSTRAINT shares_subject_grantee_key UNIQUE (subject_id, grantee_id),
    CONSTRAINT shares_not_to_oneself CHECK (subject_id <> grantee_id)
);
CREATE INDEX shares_grantee_idx ON shares (grantee_id, created_at, id);

CREATE TABLE activities (
    id                  blob PRIMARY KEY NOT NULL,
    user_id             blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                text NOT NULL,
    sport               text NOT NULL,
    started_at          text NOT NULL,
    duration_seconds    bigint CHECK (duration_seconds >= 0),
    distance_meters     double CHECK (distance_meters >= 0),
    created_at          text NOT NULL
);
CREATE INDEX activities_user_started_idx ON activities (user_id, started_at DESC, id DESC);

CREATE TABLE activity_traces (
    activity_id  blob PRIMARY KEY NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id      blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    point_count  integer NOT NULL,
    points       blob NOT NULL
);
CREATE INDEX activity_traces_user_idx ON activity_traces (user_id);
