DROP TABLE claim_codes;
DROP TABLE invitations;
