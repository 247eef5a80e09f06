-- C1: an invitation to co-manage a user, live for 7 days. At most one per
-- user and invitee (an expired one is replaced). It goes with its user,
-- its invitee and its sender's account, not when the sender stops managing.
CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invitee_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    CONSTRAINT invitations_user_invitee_key UNIQUE (user_id, invitee_id)
);
-- Received invitations, oldest first; the sender's (its account's deletion).
CREATE INDEX invitations_invitee_idx ON invitations (invitee_id, created_at, id);
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by);

-- C2: the one live claim code of a managed user, as a keyed hash (HMAC-SHA256
-- under a key derived from the signing secret): the code itself is never
-- stored. `keep_scopes` are what each former manager keeps as a share.
CREATE TABLE claim_codes (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL UNIQUE,
    keep_scopes text NOT NULL,
    issued_by   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX claim_codes_issued_by_idx ON claim_codes (issued_by);
