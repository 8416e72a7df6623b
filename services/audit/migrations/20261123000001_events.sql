-- The record: every event once, in chain order. `position` runs 1, 2, 3, ... without gaps;
-- `hash` = SHA-256 over the previous record's hash and this record's canonical encoding
-- (see src/domain/chain.rs). Rows are never updated; they are deleted only when a whole
-- segment is pruned under a signed checkpoint.
CREATE TABLE audit_records (
    position              bigint PRIMARY KEY,
    stream                text NOT NULL,
    stream_seq            bigint NOT NULL,
    message_id            text NOT NULL,
    subject               text NOT NULL,
    event_type            text NOT NULL,
    occurred_at           timestamptz NOT NULL,
    recorded_at           timestamptz NOT NULL,
    actor_kind            text,
    actor_id              text,
    institution_rspo_id   text,
    case_number           text,
    document_id           text,
    subject_login         text,
    pesel_hash            text,
    revocation_request_id text,
    trace_id              text,
    body                  text NOT NULL,
    prev_hash             bytea NOT NULL,
    hash                  bytea NOT NULL,
    UNIQUE (stream, message_id)
);
CREATE INDEX audit_records_by_case ON audit_records (case_number) WHERE case_number IS NOT NULL;
CREATE INDEX audit_records_by_document ON audit_records (document_id) WHERE document_id IS NOT NULL;
CREATE INDEX audit_records_by_institution ON audit_records (institution_rspo_id) WHERE institution_rspo_id IS NOT NULL;
CREATE INDEX audit_records_by_subject_login ON audit_records (subject_login) WHERE subject_login IS NOT NULL;
CREATE INDEX audit_records_by_actor ON audit_records (actor_id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_records_by_pesel ON audit_records (pesel_hash) WHERE pesel_hash IS NOT NULL;
CREATE INDEX audit_records_by_revocation ON audit_records (revocation_request_id) WHERE revocation_request_id IS NOT NULL;
CREATE INDEX audit_records_by_type_time ON audit_records (event_type, occurred_at);
CREATE INDEX audit_records_by_time ON audit_records (occurred_at);

-- The head of the chain, locked by every append so positions never collide.
CREATE TABLE audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint NOT NULL,
    hash      bytea NOT NULL
);
INSERT INTO audit_chain_head (position, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Signed statements "the record at `position` has `hash`". The newest is also published on
-- its own JetStream stream, outside this database.
CREATE TABLE audit_checkpoints (
    position   bigint PRIMARY KEY,
    hash       bytea NOT NULL,
    signed_at  timestamptz NOT NULL,
    public_key text NOT NULL,
    signature  text NOT NULL
);

-- Segments removed under the retention policy: verification starts after the newest.
CREATE TABLE audit_pruned_segments (
    upto_position bigint PRIMARY KEY,
    hash          bytea NOT NULL,
    pruned_at     timestamptz NOT NULL,
    export_sha256 text NOT NULL,
    records       bigint NOT NULL
);

-- Append-only: no update ever, a delete only of a segment being pruned.
CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.position <= coalesce(nullif(current_setting('klucznik.prune_upto', true), '')::bigint, 0)
       AND EXISTS (SELECT 1 FROM audit_pruned_segments WHERE upto_position >= OLD.position) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
CREATE FUNCTION audit_records_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only (TRUNCATE refused)';
END $$;
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_no_truncate();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_records_no_truncate();
