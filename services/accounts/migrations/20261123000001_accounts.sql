-- Institutions (from RSPO), the people who work there, and their accounts.
CREATE TABLE institutions (
    rspo_id         text PRIMARY KEY,
    name            text NOT NULL,
    city_run        boolean NOT NULL,
    rspo_email      text NOT NULL,
    -- The current director: his own account's login, and his official mobile number.
    director_login  text,
    director_mobile text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE TABLE people (
    id                  uuid PRIMARY KEY,
    first_name          text NOT NULL,
    last_name           text NOT NULL,
    institution_rspo_id text REFERENCES institutions (rspo_id),
    created_at          timestamptz NOT NULL
);

-- kind: zszo (a ZSZO user), pzo_admin (the institution's PZO administrator account),
-- staff (the department's administrators, operators and auditors).
-- The password is kept only as an argon2id hash; a starting password must be changed at
-- the first login and expires.
CREATE TABLE accounts (
    login               text PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('zszo', 'pzo_admin', 'staff')),
    role                text NOT NULL CHECK (role IN ('user', 'director', 'administrator', 'operator', 'auditor')),
    person_id           uuid REFERENCES people (id),
    institution_rspo_id text REFERENCES institutions (rspo_id),
    email               text,
    password_hash       text,
    must_change         boolean NOT NULL DEFAULT false,
    starting_expires_at timestamptz,
    totp_secret         text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK (kind = 'staff' OR institution_rspo_id IS NOT NULL)
);
CREATE INDEX accounts_by_institution ON accounts (institution_rspo_id, kind);
-- One PZO administrator account per institution.
CREATE UNIQUE INDEX accounts_one_pzo_admin ON accounts (institution_rspo_id) WHERE kind = 'pzo_admin';

-- A case registered by intake, and what accounts decided about who asked.
CREATE TABLE case_requests (
    case_number         text PRIMARY KEY,
    procedure           text NOT NULL,
    institution_rspo_id text NOT NULL,
    requester_login     text NOT NULL,
    target_login        text NOT NULL,
    decision            text NOT NULL CHECK (decision IN ('verified', 'refused')),
    refusal_code        text,
    decided_at          timestamptz NOT NULL
);
