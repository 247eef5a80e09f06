-- A subject's data shared with a grantee. One share per pair: a second
-- grant changes the first (PUT), except that an expired one is replaced.
CREATE TABLE shares (
    id          uuid PRIMARY KEY,
    subject_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grantee_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Scope names in the order of Scope, space-separated ("data:read data:write").
    scopes      text NOT NULL CHECK (scopes <> ''),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz,
    CONSTRAINT shares_subject_grantee_key UNIQUE (subject_id, grantee_id),
    CONSTRAINT shares_not_to_oneself CHECK (subject_id <> grantee_id)
);
-- Grants received by a user, oldest first (the list endpoint, access checks).
CREATE INDEX shares_grantee_idx ON shares (grantee_id, created_at, id);

CREATE TABLE activities (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                text NOT NULL,
    sport               text NOT NULL,
    started_at          timestamptz NOT NULL,
    duration_seconds    bigint CHECK (duration_seconds >= 0),
    distance_meters     double precision CHECK (distance_meters >= 0),
    created_at          timestamptz NOT NULL
);
-- A user's activities, newest first, and the keyset pagination after one.
CREATE INDEX activities_user_started_idx ON activities (user_id, started_at DESC, id DESC);

-- A whole trace in one row: reading 100,000 points back is one fetch.
CREATE TABLE activity_traces (
    activity_id  uuid PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    point_count  integer NOT NULL,
    -- Steward's packed format (crates/persistence/src/traces.rs).
    points       bytea NOT NULL
);
CREATE INDEX activity_traces_user_idx ON activity_traces (user_id);
