-- SQLite twin of migrations/postgres (see there).
CREATE TABLE invitations (
    id          blob PRIMARY KEY NOT NULL,
    user_id     blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invitee_id  blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by  blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  text NOT NULL,
    expires_at  text NOT NULL,
    CONSTRAINT invitations_user_invitee_key UNIQUE (user_id, invitee_id)
);
CREATE INDEX invitations_invitee_idx ON invitations (invitee_id, created_at, id);
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by);

CREATE TABLE claim_codes (
    user_id     blob PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   blob NOT NULL UNIQUE,
    keep_scopes text NOT NULL,
    issued_by   blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  text NOT NULL,
    expires_at  text NOT NULL
);
CREATE INDEX claim_codes_issued_by_idx ON claim_codes (issued_by);
