-- Contact data a verified request corrected in accounts' copy (seeds 000 and 001, step 1):
-- shown on the case's page; audit has the same from accounts' event.
ALTER TABLE cases ADD COLUMN contact_updates jsonb NOT NULL DEFAULT '[]'::jsonb;
-- A failed, refused or expired case closed by an administrator, with his note.
ALTER TABLE cases
    ADD COLUMN closed_by text,
    ADD COLUMN closing_note text;
