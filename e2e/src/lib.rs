//! End-to-end tests live in `tests/e2e/`: they start the five service binaries as
//! processes against a real nats-server and PostgreSQL.
