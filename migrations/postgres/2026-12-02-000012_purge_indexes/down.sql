DROP INDEX totp_factors_enroll_expires_idx;
DROP INDEX claim_codes_expires_idx;
DROP INDEX invitations_expires_idx;
DROP INDEX sessions_revoked_idx;
DROP INDEX shares_expires_idx;
