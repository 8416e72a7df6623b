-- First-time TOTP enrolment in the console: an administrator prepares it (until a deadline);
-- at the staff member's next sign-in with the password, a secret is drawn and shown to him
-- alone (as a QR code), kept here encrypted until he confirms it with a code from his app.
-- The token that carries the confirmation is kept only as its hash.
ALTER TABLE accounts
    ADD COLUMN totp_enrolment_until      timestamptz,
    ADD COLUMN totp_pending_secret       text,
    ADD COLUMN totp_enrolment_token_hash text UNIQUE,
    ADD COLUMN totp_enrolment_attempts   int NOT NULL DEFAULT 0;

-- "Administrator Systemu lub uprawniony pracownik EK-04" (seed 001): a staff member other
-- than an administrator granted the right to process requests (take and realise them).
ALTER TABLE accounts ADD COLUMN may_process boolean NOT NULL DEFAULT false;
