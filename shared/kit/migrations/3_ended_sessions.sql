-- Sessions accounts ended (accounts.sessions.ended): their tokens are refused at once.
-- A row is needed only until the token would have expired anyway.
CREATE TABLE kit_ended_sessions (
    sid        text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
