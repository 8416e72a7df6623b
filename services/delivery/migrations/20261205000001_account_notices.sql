-- Procedure C: the e-mail address's confirmation link (its token kept sealed to delivery's
-- key until the moment it is sent), and the notice to the local administrator that the
-- account he created is active. `facts` holds what the e-mail states.
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check
    CHECK (kind IN ('password_changed', 'case_outcome', 'email_confirmation', 'account_activated'));
ALTER TABLE notices
    ADD COLUMN sealed bytea,
    ADD COLUMN facts  jsonb;
