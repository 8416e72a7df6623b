-- The last TOTP time step a staff member signed in with: a code is accepted once.
ALTER TABLE accounts ADD COLUMN totp_last_step bigint;
