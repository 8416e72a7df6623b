-- One row per case delivery must deliver: to whom, how far it got, and (only until it is
-- done) the credentials, still sealed to delivery's key. The cipher password of an
-- encrypted letter is never stored; neither is anything opened.
CREATE TABLE deliveries (
    case_number         text PRIMARY KEY,
    procedure           text NOT NULL,
    login               text NOT NULL,
    delivery_mode       text NOT NULL CHECK (delivery_mode IN ('electronic', 'in_person')),
    institution_rspo_id text,
    institution_name    text NOT NULL,
    rspo_email          text NOT NULL,
    director_mobile     text NOT NULL,
    first_name          text,
    last_name           text,
    -- kit::seal output (not base64); NULL once the credentials reached the requester.
    sealed_credentials  bytea,
    expires_at          timestamptz NOT NULL,
    portal_url          text NOT NULL,
    status              text NOT NULL CHECK (status IN (
                            'pending', 'mail_sent', 'completed', 'failed',
                            'awaiting_collection', 'collected', 'expired')),
    -- Failed tries (passing failures, and tries interrupted before their outcome was kept).
    attempts            integer NOT NULL DEFAULT 0,
    -- The last failure, technical and without secrets.
    last_error          text,
    -- When the dispatcher may take it next: after a back-off, or when a claim's lease ends.
    next_attempt_at     timestamptz NOT NULL,
    -- Who holds it now (one dispatcher's claim); NULL when nobody does.
    claim_token         uuid,
    -- How many times a dispatcher took it, and how many of those tries ended without a
    -- recorded outcome (the process stopped): such a try may have got an e-mail out.
    claims              integer NOT NULL DEFAULT 0,
    interrupted_tries   integer NOT NULL DEFAULT 0,
    -- E-mails the SMTP relay accepted for this case, and the newest one's Message-ID and
    -- SHA-256 of its (encrypted) attachment.
    mails_accepted      integer NOT NULL DEFAULT 0,
    mail_message_id     text,
    mail_attachment_sha256 text,
    mail_sent_at        timestamptz,
    -- The accounts.credential.issued event this row came from.
    issued_event_id     uuid NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    completed_at        timestamptz,
    CONSTRAINT deliveries_no_sealed_copy_when_done
        CHECK (status NOT IN ('completed', 'collected', 'expired') OR sealed_credentials IS NULL)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
    WHERE status IN ('pending', 'mail_sent');
