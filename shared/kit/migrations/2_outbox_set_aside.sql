-- A row the bus refuses for good (too large, an invalid subject) is set aside with the reason
-- instead of blocking every later row; a dead letter says so.
ALTER TABLE kit_outbox ADD COLUMN set_aside text;
