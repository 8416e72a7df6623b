-- Notices that an account's password was changed (accounts.password.changed), e-mailed to
-- the account's address by a worker after the consumer's commit. Nothing secret is in
-- them. One row per event: a redelivered or replayed event finds its row and adds none.
CREATE TABLE password_notices (
    -- The accounts.password.changed event's id; also the e-mail's stable Message-ID.
    event_id        uuid PRIMARY KEY,
    login           text NOT NULL,
    email           text NOT NULL,
    changed_at      timestamptz NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    -- Failed tries (passing failures, and tries interrupted before their outcome was kept).
    attempts        integer NOT NULL DEFAULT 0,
    -- The last failure, technical.
    last_error      text,
    next_attempt_at timestamptz NOT NULL,
    -- Who holds it now (one worker's claim); NULL when nobody does.
    claim_token     uuid,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    sent_at         timestamptz
);

CREATE INDEX password_notices_due ON password_notices (next_attempt_at)
    WHERE status = 'pending';
