-- Every message seen on the bus, once, in the order audit handled it.
CREATE TABLE audit_events (
    id                  bigserial PRIMARY KEY,
    stream              text NOT NULL,
    stream_seq          bigint NOT NULL,
    message_id          text NOT NULL,
    subject             text NOT NULL,
    event_type          text NOT NULL,
    occurred_at         timestamptz NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    actor_kind          text,
    actor_id            text,
    institution_rspo_id text,
    case_number         text,
    document_id         text,
    trace_id            text,
    body                jsonb NOT NULL,
    UNIQUE (stream, message_id)
);
CREATE INDEX audit_events_by_case ON audit_events (case_number) WHERE case_number IS NOT NULL;
CREATE INDEX audit_events_by_document ON audit_events (document_id) WHERE document_id IS NOT NULL;
CREATE INDEX audit_events_by_institution ON audit_events (institution_rspo_id) WHERE institution_rspo_id IS NOT NULL;
CREATE INDEX audit_events_by_time ON audit_events (occurred_at);
