-- People of procedure D's register (employees of local governments and of the ministry) sign
-- in to the console with an account of their own; revocation maps them to their roles.
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
    CHECK (kind IN ('zszo', 'pzo_admin', 'staff', 'sio'));
ALTER TABLE accounts DROP CONSTRAINT accounts_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_check
    CHECK (kind IN ('staff', 'sio') OR institution_rspo_id IS NOT NULL);
