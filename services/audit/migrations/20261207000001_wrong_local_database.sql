-- The incident of a revocation asked from another local database than the one that granted
-- the authorisation: named for what the rule says, not "wrong instance".
ALTER TABLE incidents DROP CONSTRAINT incidents_category_check;
UPDATE incidents SET category = 'revocation_wrong_local_database'
    WHERE category = 'revocation_wrong_local_database';
ALTER TABLE incidents ADD CONSTRAINT incidents_category_check CHECK (category IN
    ('starting_password_loss', 'repeated_failed_logins', 'revocation_wrong_local_database', 'other'));
