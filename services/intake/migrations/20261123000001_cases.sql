-- Case numbers run per procedure and year: ZSZO-05/2026/000001.
CREATE TABLE case_counters (
    procedure  text   NOT NULL,
    year       int    NOT NULL,
    last_value bigint NOT NULL,
    PRIMARY KEY (procedure, year)
);

CREATE TABLE cases (
    case_number          text PRIMARY KEY,
    procedure            text NOT NULL,
    source               text NOT NULL,
    document_id          text NOT NULL UNIQUE,
    institution_rspo_id  text NOT NULL,
    institution_name     text NOT NULL,
    requester_login      text NOT NULL,
    target_login         text NOT NULL,
    rspo_email           text NOT NULL,
    director_mobile      text NOT NULL,
    delivery_mode        text NOT NULL,
    status               text NOT NULL,
    form                 jsonb NOT NULL,
    submitted_at         timestamptz NOT NULL,
    registered_at        timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX cases_by_status ON cases (status, registered_at);

CREATE TABLE case_status_history (
    id          bigserial PRIMARY KEY,
    case_number text NOT NULL REFERENCES cases (case_number),
    status      text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX case_status_history_by_case ON case_status_history (case_number, id);

-- Forms refused before they became cases: what an operator looks at when SEOD asks why.
CREATE TABLE rejected_forms (
    id          bigserial PRIMARY KEY,
    correlation text NOT NULL,
    subject     text NOT NULL,
    field       text NOT NULL,
    code        text NOT NULL,
    message     text NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX rejected_forms_by_correlation ON rejected_forms (correlation);
