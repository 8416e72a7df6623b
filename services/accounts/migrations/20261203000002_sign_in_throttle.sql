-- Sign-in attempts, counted atomically before any password is hashed, per key (an account,
-- or a keyed hash of an unknown login; an address). A streak earns a growing delay.
CREATE TABLE sign_in_throttle (
    key             text PRIMARY KEY,
    streak          integer NOT NULL,
    next_allowed_at timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
-- Failures were counted here before; the throttle replaces it, and it held logins as typed.
DROP TABLE login_failures;
