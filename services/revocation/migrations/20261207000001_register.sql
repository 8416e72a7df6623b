-- Procedure D's register: units in their hierarchy, local databases ("lokalna baza danych"),
-- people (PESEL only as a keyed hash and a mask), employees with their roles, and the
-- authorisations to the SIO database, each approved in one local database.

CREATE TABLE units (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('ministry', 'jst', 'school')),
    name        text NOT NULL,
    parent_id   text REFERENCES units (id),
    rspo_id     text,
    CHECK (parent_id IS DISTINCT FROM id)
);

CREATE TABLE local_databases (
    id          text PRIMARY KEY,
    unit_id     text NOT NULL REFERENCES units (id),
    name        text NOT NULL,
    -- The communication panel sends and checks by itself ("automatycznie").
    auto_send   boolean NOT NULL DEFAULT false,
    auto_check  boolean NOT NULL DEFAULT false
);

CREATE TABLE people (
    id              text PRIMARY KEY,
    pesel_index     text NOT NULL UNIQUE,
    pesel_masked    text NOT NULL,
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    -- The console login (accounts) the person signs in with, if any.
    login           text UNIQUE
);

CREATE TABLE employees (
    unit_id         text NOT NULL REFERENCES units (id),
    person_id       text NOT NULL REFERENCES people (id),
    position        text NOT NULL,
    -- The administrator of the unit's local databases: a school's director, a JST's mayor.
    administrator   boolean NOT NULL DEFAULT false,
    active          boolean NOT NULL DEFAULT true,
    PRIMARY KEY (unit_id, person_id)
);

CREATE TABLE authorisations (
    id              text PRIMARY KEY,
    person_id       text NOT NULL REFERENCES people (id),
    -- The unit the authorised person represents.
    unit_id         text NOT NULL REFERENCES units (id),
    -- The local database whose application approved it; only it may ask to revoke (mode 1).
    granted_in      text NOT NULL REFERENCES local_databases (id),
    approved_by     text NOT NULL REFERENCES people (id),
    approved_at     date NOT NULL,
    scope           text NOT NULL,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    revoked_at      timestamptz,
    revoked_reason  text,
    revoked_by_request uuid,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX authorisations_granted_in ON authorisations (granted_in) WHERE status = 'active';
CREATE INDEX authorisations_person ON authorisations (person_id);

-- A revocation request: its local side (saved, reviewed, decided) and what the central
-- system has received of it.
CREATE TABLE requests (
    id                  uuid PRIMARY KEY,
    mode                text NOT NULL CHECK (mode IN ('subordinate_unit', 'own_unit')),
    local_database_id   text NOT NULL REFERENCES local_databases (id),
    reviewer_unit_id    text NOT NULL REFERENCES units (id),
    authorisation_id    text NOT NULL REFERENCES authorisations (id),
    reason              text NOT NULL,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL,
    -- The reviewing body's side.
    review_local_database_id text REFERENCES local_databases (id),
    fetched_at          timestamptz,
    review_started_by   text,
    review_started_at   timestamptz,
    decision            text CHECK (decision IN ('accepted', 'rejected', 'withdrawn')),
    decided_by          text,
    decided_at          timestamptz,
    -- The central system's side, set only by what it consumed from the bus.
    central_received_at timestamptz,
    central_review_started_at timestamptz,
    central_decision_at timestamptz
);
-- One request under way per authorisation: a second is refused, a rejected or withdrawn
-- one leaves room for a new.
CREATE UNIQUE INDEX requests_one_open ON requests (authorisation_id)
    WHERE decision IS NULL OR decision = 'accepted';
CREATE INDEX requests_waiting ON requests (reviewer_unit_id)
    WHERE central_received_at IS NOT NULL AND review_local_database_id IS NULL;

-- The communication panel ("Panel komunikacji z systemem"): what a local database has to
-- send, has sent, and has seen acknowledged.
CREATE TABLE panel_forms (
    id                  uuid PRIMARY KEY,
    local_database_id   text NOT NULL REFERENCES local_databases (id),
    request_id          uuid NOT NULL REFERENCES requests (id),
    kind                text NOT NULL CHECK (kind IN ('request', 'review_started', 'decision')),
    tab                 text NOT NULL DEFAULT 'to_send' CHECK (tab IN ('to_send', 'sent', 'done')),
    created_at          timestamptz NOT NULL,
    sent_by             text,
    sent_at             timestamptz,
    -- Set by the central system's consumer.
    delivered_at        timestamptz,
    done_at             timestamptz,
    UNIQUE (request_id, kind)
);
CREATE INDEX panel_forms_tab ON panel_forms (local_database_id, tab, created_at);
