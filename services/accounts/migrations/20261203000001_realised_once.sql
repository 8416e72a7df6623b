-- A verified case is realised once: who asked and when are kept with what accounts verified.
ALTER TABLE case_requests
    ADD COLUMN realised_at timestamptz,
    ADD COLUMN realised_by text;
