-- audit runs as a role that may only append and read its record. The owner that runs the
-- migrations grants it (kit_grant_app) no UPDATE, DELETE or TRUNCATE of the records, and no
-- write to the pruned segments: a prune goes only through audit_prune(), which runs as the
-- owner, enforces the retention policy the owner set, and is itself a record of the chain.

CREATE OR REPLACE FUNCTION kit_grant_app(app text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT ON audit_records, audit_checkpoints TO %I', app);
    EXECUTE format('GRANT SELECT, UPDATE ON audit_chain_head TO %I', app);
    EXECUTE format('GRANT SELECT ON audit_pruned_segments, audit_retention_policy TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON incidents, incident_counters, incident_links TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT ON incident_history TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON kit_outbox, kit_inbox, kit_ended_sessions TO %I', app);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
    EXECUTE format('GRANT EXECUTE ON FUNCTION audit_prune(bigint, text, bigint, text, text, timestamptz) TO %I', app);
END $$;

-- The retention policy, set by the owner from the configuration at start; audit's own
-- role can read it, not shorten it.
CREATE TABLE audit_retention_policy (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    days      integer NOT NULL CHECK (days >= 0)
);
INSERT INTO audit_retention_policy (days) VALUES (1825);

-- Records leave only inside audit_prune (running as the table's owner): no session setting
-- opens the way.
CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_user = (SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_records')
       AND current_setting('klucznik.pruning', true) = 'audit_prune'
       AND EXISTS (SELECT 1 FROM audit_pruned_segments WHERE upto_position >= OLD.position) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP;
END $$;

-- Prunes the chain's oldest records up to `upto`: only a whole segment from the start of
-- what is left, only records older than the retention policy, only with the hash of its
-- last record (the caller verified the segment and its export); the segment is kept as a
-- row of audit_pruned_segments. Runs as the owner.
CREATE FUNCTION audit_prune(upto bigint, hash_hex text, records bigint, export_sha256 text, by text, at timestamptz)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    first_left bigint;
    last_hash bytea;
    newest_recorded timestamptz;
    keep_days integer;
BEGIN
    SELECT coalesce(max(upto_position), 0) + 1 INTO first_left FROM audit_pruned_segments;
    SELECT hash INTO last_hash FROM audit_records WHERE position = upto;
    IF last_hash IS NULL OR encode(last_hash, 'hex') <> hash_hex THEN
        RAISE EXCEPTION 'audit_prune: record % is not the one exported', upto;
    END IF;
    IF records <> upto - first_left + 1
       OR (SELECT count(*) FROM audit_records WHERE position BETWEEN first_left AND upto) <> records THEN
        RAISE EXCEPTION 'audit_prune: the segment % to % is not whole', first_left, upto;
    END IF;
    SELECT days INTO keep_days FROM audit_retention_policy;
    SELECT max(recorded_at) INTO newest_recorded FROM audit_records WHERE position <= upto;
    IF newest_recorded >= at - make_interval(days => keep_days) OR at > now() + interval '1 minute' THEN
        RAISE EXCEPTION 'audit_prune: records up to % are younger than the retention period', upto;
    END IF;
    INSERT INTO audit_pruned_segments (upto_position, hash, pruned_at, export_sha256, records, pruned_by)
        VALUES (upto, last_hash, at, export_sha256, records, by);
    PERFORM set_config('klucznik.pruning', 'audit_prune', true);
    DELETE FROM audit_records WHERE position <= upto;
    PERFORM set_config('klucznik.pruning', '', true);
END $$;
REVOKE ALL ON FUNCTION audit_prune(bigint, text, bigint, text, text, timestamptz) FROM PUBLIC;
