-- The register of security incidents. Unlike audit_records an incident changes (its status
-- moves forward: registered -> under_analysis -> closed, or registered -> closed); every
-- change is kept in incident_history and recorded in the chain as well.

-- `INC/<year>/<sequence>`: the sequence runs per year, without gaps (it is taken in the
-- transaction that opens the incident, so a rollback gives the number back).
CREATE TABLE incident_counters (
    year       integer PRIMARY KEY,
    last_value bigint NOT NULL
);

CREATE TABLE incidents (
    number               text PRIMARY KEY,
    year                 integer NOT NULL,
    sequence             bigint NOT NULL,
    category             text NOT NULL CHECK (category IN
        ('starting_password_loss', 'repeated_failed_logins', 'revocation_wrong_local_database', 'other')),
    status               text NOT NULL CHECK (status IN ('registered', 'under_analysis', 'closed')),
    title                text NOT NULL CHECK (title <> ''),
    description          text NOT NULL,
    -- The account concerned, when there is one: one open incident per category and login
    -- is enough, so repeated failures do not flood the register.
    subject_login        text,
    opened_at            timestamptz NOT NULL,
    opened_by            text NOT NULL CHECK (opened_by <> ''),
    opened_automatically boolean NOT NULL,
    closed_at            timestamptz,
    closed_by            text,
    closing_note         text,
    updated_at           timestamptz NOT NULL,
    UNIQUE (year, sequence),
    -- A closed incident says who closed it, when and why; an open one has none of it.
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (closed_at IS NULL OR (closed_by IS NOT NULL AND closing_note IS NOT NULL
                                 AND btrim(closing_note) <> ''))
);
CREATE INDEX incidents_by_opened_at ON incidents (opened_at);
CREATE INDEX incidents_by_status ON incidents (status, year, sequence);
CREATE INDEX incidents_open_by_login ON incidents (category, subject_login)
    WHERE status <> 'closed' AND subject_login IS NOT NULL;

-- What an incident concerns: cases (by number) and audit records (by position). A record
-- position has no foreign key: records may be pruned under a signed checkpoint, the
-- incident stays.
CREATE TABLE incident_links (
    incident_number text NOT NULL REFERENCES incidents (number),
    case_number     text,
    record_position bigint,
    CHECK ((case_number IS NULL) <> (record_position IS NULL))
);
CREATE UNIQUE INDEX incident_links_case ON incident_links (incident_number, case_number)
    WHERE case_number IS NOT NULL;
CREATE UNIQUE INDEX incident_links_record ON incident_links (incident_number, record_position)
    WHERE record_position IS NOT NULL;
CREATE INDEX incident_links_by_case ON incident_links (case_number) WHERE case_number IS NOT NULL;

-- Every status an incident reached, who set it and with what note. Never rewritten.
CREATE TABLE incident_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_number text NOT NULL REFERENCES incidents (number),
    status          text NOT NULL CHECK (status IN ('registered', 'under_analysis', 'closed')),
    at              timestamptz NOT NULL,
    by              text NOT NULL CHECK (by <> ''),
    note            text
);
CREATE INDEX incident_history_by_incident ON incident_history (incident_number, id);

CREATE FUNCTION incident_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident history is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER incident_history_append_only BEFORE UPDATE OR DELETE ON incident_history
    FOR EACH ROW EXECUTE FUNCTION incident_history_append_only();
CREATE TRIGGER incident_history_no_truncate BEFORE TRUNCATE ON incident_history
    FOR EACH STATEMENT EXECUTE FUNCTION incident_history_append_only();
