-- Signed-in sessions: a token names its session; ending the session ends the token's use
-- where accounts is asked (password changes end every other session of the account).
CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    login      text NOT NULL REFERENCES accounts (login),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz
);
CREATE INDEX sessions_open_by_login ON sessions (login) WHERE ended_at IS NULL;

-- Failed sign-ins, per account and per address, for rate limiting.
CREATE TABLE login_failures (
    id      bigserial PRIMARY KEY,
    login   text NOT NULL,
    address text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX login_failures_by_login ON login_failures (login, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);
