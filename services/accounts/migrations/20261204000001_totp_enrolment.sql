-- First-time TOTP enrolment in the console: an administrator prepares it (until a deadline);
-- at the staff member's next sign-in with the password, a secret is drawn and shown to him
-- alone (as a QR code), kept here encrypted until he confirms it with a code from his app.
-- The token that carries the confirmation is kept only as its hash.
ALTER TABLE accounts
    ADD COLUMN totp_enrolment_until      timestamptz,
    ADD COLUMN totp_pending_secret       text,
    ADD COLUMN totp_enrolment_token_hash text UNIQUE,
    ADD COLUMN totp_enrolment_attempts   int NOT NULL DEFAULT 0;
