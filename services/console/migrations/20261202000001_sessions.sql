-- The console's sessions: kept here so they survive a restart and are shared by replicas.
-- A record holds the staff member's token for the services' APIs until the session ends.
CREATE TABLE console_sessions (
    id         text PRIMARY KEY,
    record     jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
