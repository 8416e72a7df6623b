-- Procedure C (seed 002): the staff of each institution ("Pracownicy Placówki"), with or
-- without an account; the local administrators a director authorised; the ZSZO permissions
-- granted to an account; and the history of each account's creation.

-- A PESEL is kept only as a keyed hash (to find the same person again at the next import)
-- and masked (to tell two namesakes apart in a list): nothing here needs the whole number.
-- The *_key columns are the names folded for search: lower case, Polish letters as ASCII.
CREATE TABLE staff_members (
    id                  uuid PRIMARY KEY,
    institution_rspo_id text NOT NULL REFERENCES institutions (rspo_id),
    first_name          text NOT NULL,
    last_name           text NOT NULL,
    first_key           text NOT NULL,
    last_key            text NOT NULL,
    pesel_index         text NOT NULL,
    pesel_masked        text NOT NULL,
    position            text NOT NULL,
    employment          text NOT NULL CHECK (employment IN ('employed', 'on_leave', 'left')),
    login               text UNIQUE REFERENCES accounts (login),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    UNIQUE (institution_rspo_id, pesel_index)
);
CREATE INDEX staff_members_by_last_name
    ON staff_members (institution_rspo_id, last_key text_pattern_ops);
CREATE INDEX staff_members_by_first_name
    ON staff_members (institution_rspo_id, first_key text_pattern_ops);

-- "Administrator lokalny – Dyrektor placówki lub osoba przez niego upoważniona": the director
-- is one by right; these are the people he authorised, and when he withdrew it.
CREATE TABLE local_admin_grants (
    id                  uuid PRIMARY KEY,
    institution_rspo_id text NOT NULL REFERENCES institutions (rspo_id),
    login               text NOT NULL REFERENCES accounts (login),
    granted_by          text NOT NULL,
    granted_at          timestamptz NOT NULL,
    withdrawn_by        text,
    withdrawn_at        timestamptz
);
CREATE UNIQUE INDEX local_admin_grants_one_open
    ON local_admin_grants (institution_rspo_id, login) WHERE withdrawn_at IS NULL;

-- "Konto Użytkownika – Identyfikator Użytkownika wraz z przyznanymi do niego uprawnieniami":
-- the permissions in ZSZO an account holds now (codes of the configured catalogue).
CREATE TABLE account_permissions (
    login      text NOT NULL REFERENCES accounts (login),
    permission text NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (login, permission)
);

-- "historia utworzenia Konta": every step, in order; each one is also an event audit keeps.
CREATE TABLE account_history (
    id     bigserial PRIMARY KEY,
    login  text NOT NULL REFERENCES accounts (login),
    at     timestamptz NOT NULL,
    step   text NOT NULL CHECK (step IN ('created', 'sheet_issued', 'first_login', 'email_given',
        'email_confirmed', 'activated', 'password_changed', 'permission_granted',
        'permission_withdrawn')),
    actor  text NOT NULL,
    detail text
);
CREATE INDEX account_history_by_login ON account_history (login, id);

-- An account created in the panel waits ('pending') until its e-mail address is confirmed.
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check
    CHECK (status IN ('active', 'pending', 'locked', 'disabled'));
ALTER TABLE accounts
    ADD COLUMN created_by         text,
    ADD COLUMN first_login_at     timestamptz,
    ADD COLUMN email_confirmed_at timestamptz,
    -- An address given on the portal, waiting for its confirmation link to be followed.
    ADD COLUMN email_pending      text;

-- Each confirmation link sent: its token only as a hash; used once, before it expires, and
-- only while it is the newest one of its account (a changed address needs a new link).
CREATE TABLE email_confirmations (
    token_hash text PRIMARY KEY,
    login      text NOT NULL REFERENCES accounts (login),
    email      text NOT NULL,
    sent_at    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    superseded_at timestamptz
);
CREATE INDEX email_confirmations_by_login ON email_confirmations (login, sent_at);
