-- Notices are now of two kinds: a password change (accounts.password.changed) and the
-- outcome of an e-mailed request, confirmed to its sender (intake.reply.requested).
-- Neither holds a secret.
ALTER TABLE password_notices RENAME TO notices;
ALTER INDEX password_notices_due RENAME TO notices_due;
ALTER TABLE notices RENAME COLUMN changed_at TO occurred_at;
ALTER TABLE notices ADD COLUMN kind text NOT NULL DEFAULT 'password_changed'
    CHECK (kind IN ('password_changed', 'case_outcome'));
ALTER TABLE notices ALTER COLUMN kind DROP DEFAULT;
-- For a case outcome: the intake.reply.requested event's data, which the e-mail states.
ALTER TABLE notices ADD COLUMN case_outcome jsonb;
