-- `steward purge-expired` drops what can no longer grant or sign in; each
-- of its deletions finds its rows on an index, not by reading the table.
-- Partial where only some rows can ever qualify: shares without an end,
-- live sign-ins, factors that are on are never in these indexes.
CREATE INDEX shares_expires_idx ON shares (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX invitations_expires_idx ON invitations (expires_at);
CREATE INDEX claim_codes_expires_idx ON claim_codes (expires_at);
CREATE INDEX totp_factors_enroll_expires_idx ON totp_factors (enroll_expires_at) WHERE enabled_at IS NULL;
