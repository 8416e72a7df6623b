-- The sender of an e-mailed request (PZO-01): the case's outcome is confirmed to it.
ALTER TABLE cases ADD COLUMN reply_email text;
