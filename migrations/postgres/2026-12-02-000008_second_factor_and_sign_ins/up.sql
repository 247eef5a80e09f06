-- C5: what a person sees of each sign-in. `last_used_at` moves at most once
-- per SIGN_IN_TOUCH_SECONDS (a conditional write); `ip` and `last_ip` are
-- the client's /24 or /48 network, never its address; `second_factor` is
-- how the sign-in gave one (NULL: the password alone).
ALTER TABLE sessions
    ADD COLUMN last_used_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN ip            text,
    ADD COLUMN last_ip       text,
    ADD COLUMN user_agent    text,
    ADD COLUMN second_factor text CHECK (second_factor IN ('totp', 'recovery_code'));
UPDATE sessions SET last_used_at = created_at;
-- An account's sign-ins, most recently used first (the list), least
-- recently used first (the cap of 100). Its prefix serves what
-- sessions_user_idx did.
CREATE INDEX sessions_user_used_idx ON sessions (user_id, last_used_at, id);
DROP INDEX sessions_user_idx;

-- C5: an account's TOTP factor, one row: pending while `enabled_at` is NULL
-- (an enrollment, live until `enroll_expires_at`), on once confirmed. The
-- raw 160-bit secret is sealed with XChaCha20-Poly1305 (24-byte nonce, then
-- ciphertext and tag; the user's id is the associated data) under
-- MFA_ENCRYPTION_KEY or a key derived from the signing secret. `last_step`
-- is the last 30-second step accepted, advanced only by compare-and-set.
CREATE TABLE totp_factors (
    user_id           uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed     bytea NOT NULL,
    enabled_at        timestamptz,
    enroll_expires_at timestamptz,
    last_step         bigint
);

-- C5: the unused recovery codes of a factor, as SHA-256 of their normal
-- form (each is 120 random bits: nothing to brute-force). They go with it.
CREATE TABLE recovery_codes (
    user_id   uuid NOT NULL REFERENCES totp_factors (user_id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
