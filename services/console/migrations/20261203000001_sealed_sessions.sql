-- Sessions are kept sealed: the row's key is a hash of the cookie's id, and the record is
-- encrypted under a key drawn from that id, so a copy of this table signs no one in and
-- reveals no token. Sessions of the earlier, open form end here (staff sign in again).
DELETE FROM console_sessions;
ALTER TABLE console_sessions ALTER COLUMN record TYPE text USING record::text;
COMMENT ON COLUMN console_sessions.id IS 'SHA-256 of the session cookie id, hex';
COMMENT ON COLUMN console_sessions.record IS 'the session record, ChaCha20-Poly1305 under a key derived from the cookie id';
