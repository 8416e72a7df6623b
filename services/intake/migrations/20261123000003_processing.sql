-- An administrator takes a case from the queue and realises it.
ALTER TABLE cases ADD COLUMN taken_by text;
ALTER TABLE cases ADD COLUMN taken_at timestamptz;
ALTER TABLE cases ADD COLUMN realisation_requested_by text;
ALTER TABLE cases ADD COLUMN realisation_requested_at timestamptz;
